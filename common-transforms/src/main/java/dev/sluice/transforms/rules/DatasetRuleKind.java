package dev.sluice.transforms.rules;

import java.util.Set;

/**
 * A kind of dataset rule, e.g. {@code unique}: its YAML keys and how they become a {@link
 * DatasetRule}, which owns its measuring and its judgement. Each kind is one class, found through
 * {@link java.util.ServiceLoader} ({@code
 * META-INF/services/dev.sluice.transforms.rules.DatasetRuleKind}); ARCHITECTURE.md says how to add
 * one.
 */
public interface DatasetRuleKind {
  /** The name written after {@code rule:}. */
  String name();

  /** The kind's own keys, besides rule, severity and name. */
  Set<String> keys();

  /**
   * Reads one rule of this kind; {@code severity} is already read. Fails with the file and line of
   * anything wrong.
   */
  DatasetRule parse(RuleSpec spec, RecordRule.Severity severity);
}

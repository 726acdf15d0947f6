package dev.sluice.transforms.rules;

import java.util.Set;

/**
 * A kind of record rule, e.g. {@code range}: its YAML keys and how they become a check. Each kind
 * is one class, found through {@link java.util.ServiceLoader} ({@code
 * META-INF/services/dev.sluice.transforms.rules.RecordRuleKind}); ARCHITECTURE.md says how to add
 * one.
 */
public interface RecordRuleKind {
  /** The name written after {@code rule:}. */
  String name();

  /** The kind's own keys, besides rule, severity, mostly and name. */
  Set<String> keys();

  /** Reads one rule of this kind, failing with the file and line of anything wrong. */
  RecordRule.Check parse(RuleSpec spec);
}

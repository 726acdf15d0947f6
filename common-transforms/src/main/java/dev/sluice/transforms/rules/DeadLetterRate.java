package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.Accounting;
import java.util.List;
import java.util.Set;

/**
 * {@code dead_letter_rate}: the share of the records read that went to the dead letters is at most
 * {@code max}. Judged over the whole bounded run (every step's dead letters), not per window.
 */
public record DeadLetterRate(String name, RecordRule.Severity severity, double max)
    implements DatasetRule {
  /** Reads {@code {rule: dead_letter_rate, max: 0.01}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "dead_letter_rate";
    }

    @Override
    public Set<String> keys() {
      return Set.of("max");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      return new DeadLetterRate(spec.name(""), severity, spec.fraction("max"));
    }
  }

  @Override
  public List<String> fields() {
    return List.of();
  }

  @Override
  public String kind() {
    return "dead_letter_rate";
  }

  @Override
  public Verdict judge(Figures figures) {
    long read = figures.counter(Accounting.READ);
    long dead = figures.counter(Accounting.DEAD_LETTERED);
    double rate = read == 0 ? 0.0 : (double) dead / read;
    return new Verdict(
        name,
        severity,
        read,
        dead,
        Verdict.fraction(rate),
        "<= " + Verdict.fraction(max),
        rate <= max,
        List.of());
  }
}

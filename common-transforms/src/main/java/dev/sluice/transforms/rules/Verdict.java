package dev.sluice.transforms.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.annotation.Nullable;

/**
 * One judged rule of a bounded run.
 *
 * @param rule the rule's name
 * @param severity error or warn
 * @param evaluated records judged
 * @param failed records failing (or duplicates, nulls...)
 * @param observed the measured value, as text
 * @param threshold what was required, as text
 * @param passed whether the rule holds
 * @param samples a few failing keys, when known
 */
public record Verdict(
    String rule,
    RecordRule.Severity severity,
    long evaluated,
    long failed,
    String observed,
    String threshold,
    boolean passed,
    List<String> samples) {
  public Verdict {
    samples = List.copyOf(samples);
  }

  /** Whether the rule failed at error severity, which closes the gate. */
  public boolean closesGate() {
    return !passed && severity == RecordRule.Severity.ERROR;
  }

  /** {@code error} or {@code warn}. */
  public String severityName() {
    return severity.name().toLowerCase(Locale.ROOT);
  }

  /** A fraction as reports print it, e.g. {@code 0.0500}. */
  public static String fraction(double value) {
    return String.format(Locale.ROOT, "%.4f", value);
  }

  /** A relative change as reports print it, e.g. {@code -12.5%}. */
  public static String percent(double change) {
    return String.format(Locale.ROOT, "%+.1f%%", change * 100);
  }

  /** Whole-number bounds, e.g. {@code >= 1 and <= 10}. */
  public static String bounds(@Nullable Double min, @Nullable Double max) {
    List<String> parts = new ArrayList<>();
    if (min != null) {
      parts.add(">= " + min.longValue());
    }
    if (max != null) {
      parts.add("<= " + max.longValue());
    }
    return String.join(" and ", parts);
  }
}

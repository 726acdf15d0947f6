package dev.sluice.pipelines.options;

import java.time.format.DateTimeParseException;
import org.joda.time.Duration;

/** ISO-8601 durations given in options (e.g. {@code PT30S}). */
public final class Durations {
  private Durations() {}

  /** A positive duration, or null for an unset option; fails naming the option otherwise. */
  public static Duration parse(String option, String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    java.time.Duration parsed;
    try {
      parsed = java.time.Duration.parse(value);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "--" + option + " must be an ISO-8601 interval such as PT30S, but was '" + value + "'",
          e);
    }
    if (parsed.isNegative() || parsed.isZero()) {
      throw new IllegalArgumentException(
          "--" + option + " must be a positive interval, but was " + value);
    }
    return Duration.millis(parsed.toMillis());
  }
}

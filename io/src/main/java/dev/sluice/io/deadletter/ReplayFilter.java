package dev.sluice.io.deadletter;

import dev.sluice.schemas.DeadLetter;
import java.io.Serializable;
import java.time.Instant;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * Which held dead letters a replay selects: those of one pipeline, not replayed yet, matching every
 * filter given ({@code --reason}, {@code --step}, {@code --rule}, {@code --since}, {@code --until},
 * {@code --origin}).
 *
 * @param pipeline the pipeline that dead-lettered them, e.g. {@code kafka-to-jdbc}; null: any
 * @param reason the failure category ({@code schema}, {@code rule}, ...), or null for any
 * @param step the step that failed ({@code Parse}, {@code Rules}, {@code Upsert}), or null for any
 * @param rule the rule that failed, or null for any
 * @param since only dead letters that failed at or after this time, or null
 * @param until only dead letters that failed before this time, or null
 * @param originGlob a glob the origin must match ({@code kafka:orders/*}, {@code
 *     file:/in/2026-11-*}), or null
 */
public record ReplayFilter(
    String pipeline,
    @Nullable String reason,
    @Nullable String step,
    @Nullable String rule,
    @Nullable Instant since,
    @Nullable Instant until,
    @Nullable String originGlob)
    implements Serializable {

  public ReplayFilter {
    if (since != null && until != null && !since.isBefore(until)) {
      throw new IllegalArgumentException(
          "--since must be before --until, but " + since + " is not before " + until);
    }
    if (originGlob != null) {
      pattern(originGlob);
    }
  }

  /** The same selection, whichever pipeline dead-lettered the records. */
  public ReplayFilter ofAnyPipeline() {
    return new ReplayFilter(null, reason, step, rule, since, until, originGlob);
  }

  /** Whether {@code d} is selected (the replayed mark is the store's to check). */
  public boolean matches(DeadLetter d) {
    return (pipeline == null || pipeline.equals(d.getPipeline().toString()))
        && (reason == null || reason.equals(d.getReason().toString()))
        && (step == null || step.equals(d.getStep().toString()))
        && (rule == null || (d.getRule() != null && rule.equals(d.getRule().toString())))
        && (since == null || !d.getFailedAt().isBefore(since))
        && (until == null || d.getFailedAt().isBefore(until))
        && (originGlob == null || pattern(originGlob).matcher(d.getOrigin()).matches());
  }

  /**
   * The glob as a pattern of whole origins: {@code *} matches any characters, slashes included
   * ({@code kafka:orders/*}), as origins are names, not paths; {@code ?} matches one character.
   */
  static Pattern pattern(String glob) {
    if (glob.isBlank()) {
      throw new IllegalArgumentException(
          "--origin must be a glob such as kafka:orders/*, not blank");
    }
    StringBuilder regex = new StringBuilder();
    for (char c : glob.toCharArray()) {
      regex.append(
          switch (c) {
            case '*' -> ".*";
            case '?' -> ".";
            default -> Pattern.quote(String.valueOf(c));
          });
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }
}

package dev.sluice.transforms.core;

import java.util.Locale;

/** Why a record was dead-lettered: the failure point it hit. */
public enum FailureReason {
  /** The bytes are not valid text in the expected encoding. */
  DECODE,
  /** The text is not valid JSON or CSV. */
  PARSE,
  /** The values do not fit the schema: missing, wrong type, unknown symbol, overflow. */
  SCHEMA,
  /** A data-quality rule at error severity failed. */
  RULE,
  /** A step threw while transforming the record. */
  TRANSFORM,
  /** The sink rejected the record. */
  SINK,
  /**
   * The event came after its window had closed (the window's end plus the allowed lateness): a
   * windowed aggregate can no longer count it.
   */
  LATE;

  /** The lowercase label used in dead letters, counters and reports. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}

package dev.sluice.transforms.core;

import javax.annotation.Nullable;

/**
 * A record-level failure: the record cannot go on, and goes to the dead letters with this reason.
 * The message names what is wrong (the field, the column, the rule), never the whole payload.
 */
public class RecordException extends Exception {
  private final FailureReason reason;
  private final @Nullable String rule;

  public RecordException(FailureReason reason, String message) {
    this(reason, message, null, null);
  }

  public RecordException(FailureReason reason, String message, @Nullable Throwable cause) {
    this(reason, message, null, cause);
  }

  public RecordException(
      FailureReason reason, String message, @Nullable String rule, @Nullable Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.rule = rule;
  }

  public FailureReason reason() {
    return reason;
  }

  public @Nullable String rule() {
    return rule;
  }
}

package dev.sluice.transforms.core;

/**
 * Thrown by a step for a record that is well formed but is, by design, not loaded (a Debezium
 * truncate or message event): the record is counted {@code filtered} under {@link #cause()}, never
 * dead-lettered and never lost from the books.
 */
public final class RecordFiltered extends Exception {
  private final String cause;

  /**
   * @param cause the {@code filtered} counter's reason, e.g. {@code truncate}
   * @param message what happened to the record, for the log
   */
  public RecordFiltered(String cause, String message) {
    super(message, null, false, false);
    this.cause = cause;
  }

  /** The reason the record is counted under. */
  public String cause() {
    return cause;
  }
}

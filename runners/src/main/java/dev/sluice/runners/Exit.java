package dev.sluice.runners;

/** The launcher's exit codes. */
final class Exit {
  /** Success. */
  static final int OK = 0;

  /** The run failed. */
  static final int RUN_FAILED = 1;

  /** A usage error: unknown pipeline or option, missing or invalid value (the message names it). */
  static final int USAGE = 2;

  /** The run did not account for every record. */
  static final int ACCOUNTING = 3;

  /** The quality gate closed: an error data-quality rule failed. */
  static final int QUALITY = 4;

  private Exit() {}
}

package dev.sluice.runners;

/** A command-line mistake: reported with its message and exit code 2 ({@link Exit#USAGE}). */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message);
  }
}

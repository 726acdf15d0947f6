package dev.sluice.tests;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Waiting on a condition, never on the clock: the condition is checked every few milliseconds until
 * it holds or the deadline passes. The one place the end-to-end tests pause.
 */
final class Poll {
  private static final long EVERY_MILLIS = 20;

  private Poll() {}

  /** Whether {@code condition} held before {@code timeout} passed. */
  static boolean until(Duration timeout, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(EVERY_MILLIS);
    }
    return true;
  }
}

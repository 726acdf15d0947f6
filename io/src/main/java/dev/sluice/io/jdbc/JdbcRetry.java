package dev.sluice.io.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.apache.beam.sdk.util.BackOff;
import org.apache.beam.sdk.util.FluentBackoff;
import org.apache.beam.sdk.util.Sleeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a unit of work as one transaction on a pooled connection and, when it fails transiently,
 * again on a fresh connection, with exponential backoff (Beam's {@link FluentBackoff}). Transient
 * means: the database said so (connection lost, serialization failure, deadlock, lock timeout,
 * shutting down), or the connection is unusable after the failure, whatever the driver threw.
 *
 * <p>The original error is what gets classified and reported: a failing {@code rollback()} or
 * {@code close()} on a dead connection is attached to it as suppressed, never put in its place. A
 * connection that failed is evicted from the pool, so the retry cannot draw it again.
 */
public final class JdbcRetry implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcRetry.class);
  private static final long MAX_BACKOFF_MILLIS = 30_000;

  /** Work done inside the transaction; commit and rollback are the retry's. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private final JdbcConnection connection;
  private final String target;
  private final int maxRetries;
  private final long initialBackoffMillis;

  private JdbcRetry(
      JdbcConnection connection, String target, int maxRetries, long initialBackoffMillis) {
    this.connection = connection;
    this.target = target;
    this.maxRetries = maxRetries;
    this.initialBackoffMillis = initialBackoffMillis;
  }

  /** Retries against {@code connection}; {@code target} names what is written, for messages. */
  public static JdbcRetry on(JdbcConnection connection, String target) {
    return new JdbcRetry(connection, target, 5, 200);
  }

  /**
   * Retries after a transient error, and the first backoff (growing 1.5 times each retry, with
   * jitter, up to 30 s: Beam's {@link FluentBackoff}).
   */
  public JdbcRetry withRetries(int maxRetries, long initialBackoffMillis) {
    checkArgument(maxRetries >= 0, "maxRetries must be >= 0, but was %s", maxRetries);
    checkArgument(
        initialBackoffMillis >= 0, "backoff must be >= 0 ms, but was %s", initialBackoffMillis);
    return new JdbcRetry(connection, target, maxRetries, initialBackoffMillis);
  }

  public int maxRetries() {
    return maxRetries;
  }

  /**
   * Runs {@code work} in one transaction and commits it; retries transient failures on a fresh
   * connection. A failure that is not transient, or still transient after the retries, is thrown as
   * an {@link SQLException} whose message says {@code what} was being done (e.g. "writing a batch
   * of 1000 rows to orders") and the database's own message.
   */
  public <T> T inTransaction(Supplier<String> what, Work<T> work)
      throws SQLException, InterruptedException {
    try {
      return attempt(what, work);
    } catch (IOException e) {
      throw new AssertionError("Beam's backoff raised " + e, e);
    }
  }

  private <T> T attempt(Supplier<String> what, Work<T> work)
      throws SQLException, InterruptedException, IOException {
    BackOff backoff =
        FluentBackoff.DEFAULT
            .withMaxRetries(maxRetries)
            .withInitialBackoff(org.joda.time.Duration.millis(Math.max(1, initialBackoffMillis)))
            .withMaxBackoff(org.joda.time.Duration.millis(MAX_BACKOFF_MILLIS))
            .backoff();
    for (int attempt = 0; ; attempt++) {
      Connection c = null;
      try {
        c = connection.open();
        c.setAutoCommit(false);
        T result = work.run(c);
        c.commit();
        c.close();
        return result;
      } catch (SQLException | RuntimeException | AssertionError e) {
        // pgjdbc throws AssertionError from a batch whose connection died under it.
        boolean lost = c != null && broken(c);
        if (c != null) {
          release(c, e, lost);
        }
        SQLException sql = e instanceof SQLException s ? s : null;
        boolean transientError = lost || (sql != null && SqlErrors.isTransient(sql));
        if (!transientError) {
          if (sql == null && e instanceof RuntimeException runtime) {
            throw runtime;
          }
          throw new SQLException(
              "Database error " + what.get() + ": " + SqlErrors.describe(e), SqlErrors.state(e), e);
        }
        long pause = backoff.nextBackOffMillis();
        if (pause == BackOff.STOP) {
          throw new SQLException(
              "Transient database error persisted after "
                  + maxRetries
                  + " retries "
                  + what.get()
                  + ": "
                  + SqlErrors.describe(e),
              SqlErrors.state(e),
              e);
        }
        LOG.warn(
            "Transient database error on {} (SQLState {}), retry {} of {} in {} ms on a fresh"
                + " connection: {}",
            target,
            SqlErrors.state(e) == null ? "none, connection lost" : SqlErrors.state(e),
            attempt + 1,
            maxRetries,
            pause,
            SqlErrors.describe(e));
        Sleeper.DEFAULT.sleep(pause);
      }
    }
  }

  /** Whether the connection can no longer be used (the server or the network dropped it). */
  private static boolean broken(Connection c) {
    try {
      return c.isClosed() || !c.isValid(2);
    } catch (SQLException | RuntimeException e) {
      return true;
    }
  }

  /**
   * Rolls back and returns the connection, or evicts it from the pool when it is broken; whatever
   * this throws is attached to {@code failure}, never thrown in its place.
   */
  private void release(Connection c, Throwable failure, boolean lost) {
    if (!lost) {
      try {
        c.rollback();
      } catch (SQLException | RuntimeException e) {
        failure.addSuppressed(e);
        lost = true;
      }
    }
    try {
      if (lost) {
        connection.evict(c);
      } else {
        c.close();
      }
    } catch (SQLException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transient database errors are retried with backoff and never dead-lettered; when the retries run
 * out the run fails loudly. The transient error is real: another session holds a row lock the
 * upsert needs, and the sink's role has a short lock_timeout (SQLState 55P03).
 */
@ExtendWith(SharedSandbox.class)
class TransientErrorsTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  /**
   * Holds a lock on the row of order 1 in {@code table}, from another session, until {@code
   * release} says so (or 90 s pass).
   */
  private static Future<?> lockUntil(
      String table, BooleanSupplier release, CountDownLatch locked, ExecutorService pool) {
    return pool.submit(
        () -> {
          try (Connection c = SharedSandbox.get().postgres().connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
              s.execute("SELECT * FROM " + table + " WHERE order_id = 1 FOR UPDATE");
              locked.countDown();
              Poll.until(Duration.ofSeconds(90), release::getAsBoolean);
            }
            c.commit();
          }
          return null;
        });
  }

  /** Whether the sink has logged a retry: the lock did cause a transient failure. */
  private boolean retried() {
    return err.toString(StandardCharsets.UTF_8).contains("Transient database error on");
  }

  /**
   * Runs kafka-to-jdbc while another session holds a row lock the upsert needs; the lock is let go
   * once the sink has retried ({@code releaseAfterRetry}), or only after the run otherwise.
   */
  private int runWhileLocked(String name, boolean releaseAfterRetry, int maxRetries)
      throws Exception {
    String topic = SharedSandbox.newTopic(name, 1);
    String table = SharedSandbox.newTableLike("orders", "orders_" + name);
    // The sink's own role waits at most 200 ms for a lock, then fails with SQLState 55P03.
    SharedSandbox.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'impatient') THEN"
            + " CREATE ROLE impatient LOGIN; END IF; END $$");
    SharedSandbox.execute("ALTER ROLE impatient SET lock_timeout = '200ms'");
    SharedSandbox.execute("GRANT ALL ON " + table + " TO impatient");
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " (order_id, customer_id, amount, currency, status, created_at, updated_at, version)"
            + " VALUES (1, 101, 0.50, 'EUR', 'NEW', now(), now(), 0)");
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    PrintStream realErr = System.err;
    try {
      CountDownLatch locked = new CountDownLatch(1);
      AtomicBoolean finished = new AtomicBoolean();
      Future<?> lock =
          lockUntil(table, () -> finished.get() || (releaseAfterRetry && retried()), locked, pool);
      locked.await();
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code =
          new Launcher(
                  new PrintStream(out, true, StandardCharsets.UTF_8),
                  new PrintStream(err, true, StandardCharsets.UTF_8))
              .execute(
                  "kafka-to-jdbc",
                  "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
                  "--topic=" + topic,
                  "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
                  "--jdbcUser=impatient",
                  "--table=" + table,
                  "--deadLetter=file:" + dir.resolve("dlq-" + name),
                  "--maxRetries=" + maxRetries,
                  "--runReport=" + dir.resolve("report-" + name + ".json"),
                  "--bounded");
      finished.set(true);
      lock.get();
      return code;
    } finally {
      System.setErr(realErr);
      pool.shutdownNow();
    }
  }

  @Test
  void aTransientErrorIsRetriedWithBackoffUntilTheBatchLands() throws Exception {
    int code = runWhileLocked("transient_ok", true, 6);
    assertThat(err.toString(StandardCharsets.UTF_8), code, is(Launcher.OK));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "Transient database error on orders_transient_ok (SQLState 55P03), retry 1 of 6"));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id || '@' || version, ',' ORDER BY order_id) FROM orders_transient_ok"),
        org.hamcrest.Matchers.equalTo("1@1,2@1"));
    assertThat(LakeFiles.readDeadLetters(dir.resolve("dlq-transient_ok")).size(), is(0));
    LauncherCalls.assertBalanced(dir.resolve("report-transient_ok.json"));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("written                   2"));
  }

  @Test
  void whenRetriesRunOutTheRunFailsLoudlyAndNothingIsDeadLettered() throws Exception {
    int code = runWhileLocked("transient_fail", false, 1);
    assertThat(code, is(Launcher.RUN_FAILED));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "run failed: SQLException: Transient database error persisted after 1 retries"));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "rows to orders_transient_fail: ERROR: canceling statement due to lock timeout"));
    assertThat(
        SharedSandbox.text(
            "SELECT order_id || '@' || version FROM orders_transient_fail WHERE order_id = 1"),
        org.hamcrest.Matchers.equalTo("1@0"));
    assertThat(LakeFiles.readDeadLetters(dir.resolve("dlq-transient_fail")).size(), is(0));
  }
}

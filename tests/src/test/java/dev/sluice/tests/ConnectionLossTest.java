package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server terminates the sink's backend in the middle of a transaction ({@code
 * pg_terminate_backend}, SQLState 57P01). The broken connection is discarded and the batch retried
 * on a fresh one: the run succeeds with every row and every dead letter stored once.
 *
 * <p>The kill is made deterministic with a lock: another session holds a lock the sink's statement
 * needs, the test waits until the sink's backend is blocked on it, terminates that backend, and
 * only then lets the lock go.
 */
@ExtendWith(SharedSandbox.class)
class ConnectionLossTest extends LauncherCalls {
  @TempDir Path dir;

  /** Terminates the first backend blocked on a lock while running {@code statementPrefix}. */
  private static int terminateBlocked(String statementPrefix) throws Exception {
    long[] killed = {0};
    boolean blocked =
        Poll.until(
            Duration.ofMinutes(1),
            () ->
                (killed[0] =
                        SharedSandbox.count(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                + " WHERE wait_event_type = 'Lock' AND query LIKE '"
                                + statementPrefix
                                + "%'"))
                    > 0);
    if (!blocked) {
      throw new AssertionError("no backend ever waited on the lock");
    }
    return (int) killed[0];
  }

  private int runWhileLocked(String lockSql, String statementPrefix, String... args)
      throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    PrintStream realErr = System.err;
    // The sink logs its retries through slf4j, to the process's standard error.
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try (Connection c = SharedSandbox.get().postgres().connect()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute(lockSql);
      }
      Future<Integer> launched = pool.submit(() -> run(args));
      assertThat(terminateBlocked(statementPrefix), is(1));
      c.commit();
      return launched.get(120, TimeUnit.SECONDS);
    } finally {
      System.setErr(realErr);
      pool.shutdownNow();
    }
  }

  @Test
  void aBatchWhoseConnectionIsKilledIsRetriedOnAFreshConnection() throws Exception {
    String topic = SharedSandbox.newTopic("killed-upsert", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_killed_upsert");
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " (order_id, customer_id, amount, currency, status, created_at, updated_at, version)"
            + " VALUES (1, 101, 0.50, 'EUR', 'NEW', now(), now(), 0)");
    SharedSandbox.produce(
        topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"), json(3, 1, "3.00", "NEW"));

    int code =
        runWhileLocked(
            "SELECT * FROM " + table + " WHERE order_id = 1 FOR UPDATE",
            "INSERT INTO",
            KafkaToJdbcArgs.of(
                topic,
                table,
                "--deadLetter=file:" + dir.resolve("dlq"),
                "--runReport=" + dir.resolve("report.json"),
                "--bounded"));

    assertOk(code);
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("SQLState 57P01"));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id || '@' || version, ',' ORDER BY order_id) FROM " + table),
        equalTo("1@1,2@1,3@1"));
    assertBalanced(dir.resolve("report.json"));
  }

  @Test
  void deadLettersWhoseConnectionIsKilledAreStoredOnAFreshConnection() throws Exception {
    String topic = SharedSandbox.newTopic("killed-dlq", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_killed_dlq");
    String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_killed");
    SharedSandbox.produce(
        topic, 0, json(1, 1, "1.00", "NEW"), utf8("not json"), utf8("{\"order_id\": 2,"));

    int code =
        runWhileLocked(
            "LOCK TABLE " + dlq + " IN SHARE MODE",
            "INSERT INTO",
            KafkaToJdbcArgs.of(
                topic,
                table,
                "--deadLetter=jdbc:" + dlq,
                "--deadLetterJdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--deadLetterJdbcUser=postgres",
                "--runReport=" + dir.resolve("report.json"),
                "--bounded"));

    assertOk(code);
    assertThat(
        err.toString(StandardCharsets.UTF_8), containsString("Transient database error on " + dlq));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + dlq), is(2L));
    assertThat(
        SharedSandbox.text("SELECT string_agg(origin, ',' ORDER BY origin) FROM " + dlq),
        equalTo("kafka:" + topic + "/0@1,kafka:" + topic + "/0@2"));
    assertBalanced(dir.resolve("report.json"));
  }
}

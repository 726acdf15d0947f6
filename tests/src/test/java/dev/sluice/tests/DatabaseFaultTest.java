package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.isOneOf;

import dev.sluice.runners.Launcher;
import dev.sluice.runners.Migrations;
import dev.sluice.runners.sandbox.Postgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database fails under a bounded kafka-to-jdbc load: its connections are killed, or the server
 * restarts. Either the run completes with the exact table, or it fails loudly and a rerun with the
 * same consumer group converges to the exact table. Nothing is lost either way.
 */
@ExtendWith(SharedSandbox.class)
class DatabaseFaultTest extends LauncherCalls {
  static final int ORDERS = 3_000;

  @TempDir Path dir;

  /** Two versions of each order, the newer one first for every third order. */
  static String produceOrders(String name) throws Exception {
    String topic = SharedSandbox.newTopic(name, 2);
    byte[][] values = new byte[ORDERS * 2][];
    for (int i = 0; i < ORDERS; i++) {
      boolean newerFirst = i % 3 == 0;
      values[2 * i] = json(i + 1, newerFirst ? 2 : 1, (newerFirst ? "2" : "1") + ".00", "NEW");
      values[2 * i + 1] = json(i + 1, newerFirst ? 1 : 2, (newerFirst ? "1" : "2") + ".00", "NEW");
    }
    SharedSandbox.produce(topic, 0, Arrays.copyOfRange(values, 0, ORDERS));
    SharedSandbox.produce(topic, 1, Arrays.copyOfRange(values, ORDERS, 2 * ORDERS));
    return topic;
  }

  /** Every order at version 2, and nothing else. */
  static void assertExact(String jdbcUrl, String table) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), count(*) FILTER (WHERE version = 2 AND amount = 2.00),"
                    + " min(order_id), max(order_id) FROM "
                    + table)) {
      rs.next();
      assertThat(
          rs.getLong(1) + " " + rs.getLong(2) + " " + rs.getLong(3) + " " + rs.getLong(4),
          equalTo(ORDERS + " " + ORDERS + " 1 " + ORDERS));
    }
  }

  private String[] load(String topic, String jdbcUrl, String table) {
    return new String[] {
      "kafka-to-jdbc",
      "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
      "--topic=" + topic,
      "--consumerGroup=" + topic,
      "--jdbcUrl=" + jdbcUrl,
      "--jdbcUser=postgres",
      "--table=" + table,
      "--batchSize=200",
      "--maxRetries=8",
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--runReport=" + dir.resolve("report.json"),
      "--bounded"
    };
  }

  /**
   * Runs the load while {@code fault} strikes, then, if the run failed, once more; asserts the
   * table is exact at the end.
   */
  private void loadUnder(String topic, String jdbcUrl, String table, Fault fault) throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> first = pool.submit(() -> run(load(topic, jdbcUrl, table)));
      fault.strike(first);
      int code = first.get(5, TimeUnit.MINUTES);
      assertThat(new String(err.toByteArray()), code, isOneOf(Launcher.OK, Launcher.RUN_FAILED));
      if (code != Launcher.OK) {
        err.reset();
        assertOk(run(load(topic, jdbcUrl, table)));
      }
      assertExact(jdbcUrl, table);
      assertBalanced(dir.resolve("report.json"));
    } finally {
      pool.shutdownNow();
    }
  }

  @FunctionalInterface
  interface Fault {
    void strike(Future<Integer> run) throws Exception;
  }

  @Test
  void killedConnectionsDuringALoadLoseNothing() throws Exception {
    String topic = produceOrders("fault-kill");
    String table = SharedSandbox.newTableLike("orders", "orders_fault_kill");
    loadUnder(
        topic,
        SharedSandbox.jdbcUrl(),
        table,
        run -> {
          // Kill the sink's connections while it writes, three times: each time, as soon as a
          // (new) connection is working on the table.
          for (int kill = 0; kill < 3 && !run.isDone(); kill++) {
            Poll.until(
                Duration.ofMinutes(2),
                () ->
                    run.isDone()
                        || SharedSandbox.count(
                                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                    + " WHERE pid <> pg_backend_pid()"
                                    + " AND backend_type = 'client backend' AND query LIKE '%"
                                    + table
                                    + "%'")
                            > 0);
          }
        });
  }

  @Test
  void aDatabaseRestartDuringALoadLosesNothing() throws Exception {
    Path work = Files.createDirectories(dir.resolve("pg"));
    try (Postgres postgres = Postgres.startRestartable(work)) {
      Migrations.on(postgres.jdbcUrl(), "postgres", null).apply();
      String topic = produceOrders("fault-restart");
      loadUnder(
          topic,
          postgres.jdbcUrl(),
          "orders",
          run -> {
            // Restart the server as soon as the first rows are in (or the read is under way).
            Poll.until(
                Duration.ofMinutes(1),
                () -> {
                  if (run.isDone()) {
                    return true;
                  }
                  try (Connection c = postgres.connect();
                      Statement s = c.createStatement();
                      ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
                    rs.next();
                    return rs.getLong(1) > 0;
                  }
                });
            postgres.restart(Duration.ofSeconds(2));
          });
    }
  }
}

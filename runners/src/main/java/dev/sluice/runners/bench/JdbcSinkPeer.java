package dev.sluice.runners.bench;

import dev.sluice.runners.sandbox.ConnectWorker;
import dev.sluice.runners.sandbox.LocalFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's peer: the Debezium JDBC sink connector in Kafka Connect standalone, in a JVM of
 * its own with its own classpath (resolved by {@code runners/jdbc-sink-peer}: Connect and Debezium
 * bring their own Kafka, Jackson and Hibernate), upserting the same orders by record key into a
 * table of the same shape. Measured as Sluice is: from the JVM's start to the last row in the
 * table, and its peak RSS.
 */
final class JdbcSinkPeer {
  static final String CLASSPATH_RESOURCE = "/dev/sluice/runners/bench/jdbc-sink-peer.classpath";

  private JdbcSinkPeer() {}

  static Map<String, Object> run(
      String bootstrap, String topic, String jdbcUrl, String table, long n, Path work)
      throws Exception {
    Map<String, String> connector = new LinkedHashMap<>();
    connector.put("name", "bench-jdbc-sink");
    connector.put("connector.class", "io.debezium.connector.jdbc.JdbcSinkConnector");
    connector.put("tasks.max", "2");
    connector.put("topics", topic);
    connector.put("connection.url", jdbcUrl);
    connector.put("connection.username", "postgres");
    connector.put("connection.password", "");
    connector.put("insert.mode", "upsert");
    connector.put("primary.key.mode", "record_key");
    connector.put("primary.key.fields", "order_id");
    connector.put("schema.evolution", "none");
    connector.put("collection.name.format", table);
    connector.put("consumer.override.auto.offset.reset", "earliest");
    long started = System.nanoTime();
    ConnectWorker worker = ConnectWorker.start(classpath(), work, bootstrap, true, connector, "2g");
    Process process = worker.process();
    Path log = worker.log();
    BenchCommand.FirstRow firstRow = BenchCommand.FirstRow.watch(jdbcUrl, table);
    long peakRss = 0;
    double seconds;
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
        Statement s = c.createStatement()) {
      long deadline = System.nanoTime() + TimeUnit.HOURS.toNanos(2);
      while (true) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "the Connect worker exited (" + process.exitValue() + "); see " + log);
        }
        peakRss = Math.max(peakRss, peakRss(process.pid()));
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
          rs.next();
          if (rs.getLong(1) >= n) {
            break;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the Connect worker timed out; see " + log);
        }
        Thread.sleep(100);
      }
      seconds = (System.nanoTime() - started) / 1e9;
      peakRss = Math.max(peakRss, peakRss(process.pid()));
    } finally {
      worker.close();
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("scenario", Scenario.PEER_DEBEZIUM_JDBC.id());
    result.put("seconds", Math.round(seconds * 100) / 100.0);
    result.put("peak_rss_bytes", peakRss);
    Double first = firstRow.stop();
    if (first != null) {
      result.put("first_row_seconds", Math.round(first * 10) / 10.0);
    }
    return result;
  }

  /** The process's peak resident set ({@code VmHWM}), in bytes; 0 once it is gone. */
  private static long peakRss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone, or not Linux
    }
    return 0;
  }

  static String classpath() throws IOException {
    return LocalFiles.classpathResource(CLASSPATH_RESOURCE, "runners/jdbc-sink-peer");
  }
}

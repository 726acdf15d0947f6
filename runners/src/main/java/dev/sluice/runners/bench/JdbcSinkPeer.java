package dev.sluice.runners.bench;

import dev.sluice.runners.sandbox.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
    Path worker = work.resolve("worker.properties");
    Files.writeString(
        worker,
        String.join(
            "\n",
            "bootstrap.servers=" + bootstrap,
            "key.converter=org.apache.kafka.connect.json.JsonConverter",
            "value.converter=org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable=true",
            "value.converter.schemas.enable=true",
            "offset.storage.file.filename=" + work.resolve("connect.offsets"),
            "offset.flush.interval.ms=10000",
            "listeners=http://127.0.0.1:" + Ports.free(),
            "plugin.discovery=only_scan",
            ""));
    Path connector = work.resolve("jdbc-sink.properties");
    Files.writeString(
        connector,
        String.join(
            "\n",
            "name=bench-jdbc-sink",
            "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector",
            "tasks.max=2",
            "topics=" + topic,
            "connection.url=" + jdbcUrl,
            "connection.username=postgres",
            "connection.password=",
            "insert.mode=upsert",
            "primary.key.mode=record_key",
            "primary.key.fields=order_id",
            "schema.evolution=none",
            "collection.name.format=" + table,
            "consumer.override.auto.offset.reset=earliest",
            ""));
    Path log4j =
        dev.sluice.runners.sandbox.LocalFiles.warningsOnlyLog4j(work.resolve("log4j.properties"));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx2g");
    command.add("-Dlog4j.configuration=" + log4j.toUri());
    command.add("-cp");
    command.add(classpath());
    command.add("org.apache.kafka.connect.cli.ConnectStandalone");
    command.add(worker.toString());
    command.add(connector.toString());
    Path log = work.resolve("child.log");
    long started = System.nanoTime();
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    BenchCommand.FirstRow firstRow = BenchCommand.FirstRow.watch(jdbcUrl, table);
    long peakRss = 0;
    double seconds;
    try (Connection c = java.sql.DriverManager.getConnection(jdbcUrl, "postgres", "");
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
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
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
    return dev.sluice.runners.sandbox.LocalFiles.classpathResource(
        CLASSPATH_RESOURCE, "runners/jdbc-sink-peer");
  }
}

package dev.sluice.runners;

import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.runners.sandbox.Postgres;
import dev.sluice.runners.sandbox.Sandbox;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code sluice demo [--pipeline=kafka-to-jdbc|files-to-lake] [--workDir=<dir>]}, on the Direct
 * runner with embedded services and bundled sample data.
 *
 * <ul>
 *   <li>kafka-to-jdbc (default): starts the sandbox, applies the migrations, produces sample orders
 *       (with malformed records, duplicates, out-of-order versions and a row the table rejects),
 *       runs kafka-to-jdbc bounded, and shows the summary, the table and the dead letters;
 *   <li>files-to-lake: runs on the bundled CSV and JSON-lines samples, and shows the summary, some
 *       lake rows and the dead letters.
 * </ul>
 */
final class Demo {
  static final List<String> SAMPLES = List.of("orders.csv", "orders.jsonl");
  static final String RESOURCES = "/dev/sluice/runners/demo/";

  private final PrintStream out;
  private final PrintStream err;

  Demo(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(String[] args) throws Exception {
    Flags flags = Flags.parse(args, List.of("workDir", "pipeline"));
    Path workDir = Path.of(flags.get("workDir", "target/sluice-demo")).toAbsolutePath();
    String pipeline = flags.get("pipeline", KafkaToJdbc.NAME);
    return switch (pipeline) {
      case KafkaToJdbc.NAME -> kafkaToJdbc(workDir);
      case FilesToLake.NAME -> filesToLake(workDir);
      default ->
          throw new UsageException(
              "--pipeline must be kafka-to-jdbc or files-to-lake, but was '" + pipeline + "'");
    };
  }

  private int kafkaToJdbc(Path workDir) throws Exception {
    out.println("Demo: starting the sandbox (PostgreSQL, Kafka) under " + workDir);
    try (Sandbox sandbox = Sandbox.start(workDir.resolve("sandbox"))) {
      String jdbcUrl = sandbox.postgres().jdbcUrl();
      out.println("Applied migrations: " + Migrations.on(jdbcUrl, Postgres.USER, null).apply());
      String topic = "orders";
      sandbox.kafka().createTopic(topic, 2);
      List<String> events = lines("orders-events.jsonl");
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", sandbox.kafka().bootstrapServers(), "acks", "all"),
              new ByteArraySerializer(),
              new ByteArraySerializer())) {
        for (int i = 0; i < events.size(); i++) {
          producer
              .send(
                  new ProducerRecord<>(
                      topic, i % 2, null, events.get(i).getBytes(StandardCharsets.UTF_8)))
              .get();
        }
      }
      out.println("Produced " + events.size() + " events to topic " + topic + "\n");
      int code =
          new Launcher(out, err)
              .execute(
                  KafkaToJdbc.NAME,
                  "--bootstrapServers=" + sandbox.kafka().bootstrapServers(),
                  "--topic=" + topic,
                  "--jdbcUrl=" + jdbcUrl,
                  "--jdbcUser=" + Postgres.USER,
                  "--table=orders",
                  "--deadLetter=jdbc:sluice_dead_letters",
                  "--bounded",
                  "--runReport=" + workDir.resolve("run-report.json"));
      if (code != Exit.OK) {
        return code;
      }
      try (Connection c = sandbox.postgres().connect()) {
        out.println("\nTable orders:");
        print(
            c,
            "SELECT order_id, customer_id, amount, currency, status, version FROM orders ORDER BY order_id");
        out.println("\nDead letters (table sluice_dead_letters):");
        print(
            c,
            "SELECT origin, step, reason, error_message FROM sluice_dead_letters ORDER BY origin");
      }
    }
    return Exit.OK;
  }

  private void print(Connection c, String sql) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      ResultSetMetaData meta = rs.getMetaData();
      while (rs.next()) {
        List<String> cells = new ArrayList<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          cells.add(meta.getColumnName(i) + "=" + rs.getString(i));
        }
        out.println("  " + String.join("  ", cells));
      }
    }
  }

  private static List<String> lines(String resource) throws IOException {
    try (InputStream in = Demo.class.getResourceAsStream(RESOURCES + resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .filter(l -> !l.isBlank())
          .toList();
    }
  }

  private int filesToLake(Path workDir) throws Exception {
    Path input = workDir.resolve("in");
    Path warehouse = workDir.resolve("warehouse");
    Path deadLetters = workDir.resolve("dead-letters");
    Files.createDirectories(input);
    for (String sample : SAMPLES) {
      try (InputStream in = Demo.class.getResourceAsStream(RESOURCES + sample)) {
        Files.write(input.resolve(sample), in.readAllBytes());
      }
    }
    out.println(
        "Demo: files-to-lake on the sample orders in "
            + input
            + ", into Iceberg table demo.orders (embedded catalog in "
            + warehouse
            + ")");
    int csv =
        new Launcher(out, err)
            .execute(
                FilesToLake.NAME,
                "--input=" + input + "/orders.csv",
                "--format=csv",
                "--schema=Order",
                "--output=iceberg:" + TABLE,
                "--warehouse=" + warehouse,
                "--deadLetter=file:" + deadLetters + "/csv",
                "--runReport=" + workDir.resolve("run-report-csv.json"));
    int json =
        new Launcher(out, err)
            .execute(
                FilesToLake.NAME,
                "--input=" + input + "/orders.jsonl",
                "--format=jsonl",
                "--schema=Order",
                "--output=iceberg:" + TABLE,
                "--warehouse=" + warehouse,
                "--deadLetter=file:" + deadLetters + "/jsonl",
                "--runReport=" + workDir.resolve("run-report-jsonl.json"));
    if (csv != Exit.OK || json != Exit.OK) {
      return csv != Exit.OK ? csv : json;
    }
    showTable(warehouse);
    showDeadLetters(deadLetters);
    return Exit.OK;
  }

  /** The demo's Iceberg table. */
  static final String TABLE = "demo.orders";

  /** A few rows of the table, read through Iceberg's own reader, and its snapshots. */
  private void showTable(Path warehouse) throws Exception {
    org.apache.iceberg.catalog.Catalog catalog =
        new IcebergCatalog(
                "jdbc:sqlite:" + warehouse.resolve("sluice-catalog.db"),
                warehouse.toString(),
                null,
                null)
            .open();
    try {
      org.apache.iceberg.Table table =
          catalog.loadTable(org.apache.iceberg.catalog.TableIdentifier.parse(TABLE));
      out.println("\nA few rows of Iceberg table " + TABLE + " (" + table.location() + "):");
      try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows =
          org.apache.iceberg.data.IcebergGenerics.read(table).build()) {
        int shown = 0;
        for (org.apache.iceberg.data.Record row : rows) {
          if (shown++ == 5) {
            break;
          }
          out.println("  " + row);
        }
      }
      out.println("\nIts snapshots:");
      for (org.apache.iceberg.Snapshot snapshot : table.snapshots()) {
        out.println(
            "  "
                + snapshot.snapshotId()
                + " "
                + snapshot.operation()
                + " at "
                + Instant.ofEpochMilli(snapshot.timestampMillis())
                + ": +"
                + snapshot.summary().getOrDefault("added-records", "0")
                + " row(s), total "
                + snapshot.summary().getOrDefault("total-records", "?")
                + ", inputs "
                + snapshot.summary().get("sluice.inputs"));
      }
    } finally {
      ((AutoCloseable) catalog).close();
    }
  }

  private void showDeadLetters(Path deadLetters) throws IOException {
    out.println("\nDead letters (" + deadLetters + "):");
    List<String> lines = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(deadLetters)) {
      for (Path file :
          walk.filter(p -> p.toString().endsWith(".jsonl"))
              .sorted(Comparator.naturalOrder())
              .toList()) {
        lines.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
      }
    }
    lines.stream()
        .map(DeadLetterJson::fromJson)
        .sorted(Comparator.comparing(d -> d.getOrigin()))
        .forEach(
            d ->
                out.println(
                    "  " + d.getOrigin() + " [" + d.getReason() + "] " + d.getErrorMessage()));
  }
}

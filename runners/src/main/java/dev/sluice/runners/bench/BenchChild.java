package dev.sluice.runners.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.files.FileSink;
import dev.sluice.io.files.WrittenFile;
import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.io.iceberg.IcebergCommit;
import dev.sluice.io.iceberg.IcebergFiles;
import dev.sluice.io.iceberg.IcebergTables;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcUpsert;
import dev.sluice.io.jdbc.UpsertSql;
import dev.sluice.runners.Launcher;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.RecordFiltered;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.RecordParser;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.postgresql.PGConnection;

/**
 * One measured scenario in this JVM: runs it, then prints {@code BENCH_RESULT {json}} with its wall
 * time and this process's peak resident set size ({@code VmHWM}).
 *
 * <p>Arguments: {@code <scenario> key=value...} with keys {@code n}, {@code seed}, {@code jdbcUrl},
 * {@code table}, {@code bootstrapServers}, {@code topic}, {@code input}, {@code work}.
 */
public final class BenchChild {
  static final String RESULT = "BENCH_RESULT ";

  private BenchChild() {}

  public static void main(String[] args) throws Exception {
    Scenario scenario = Scenario.byId(args[0]);
    Map<String, String> p = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      p.put(kv[0], kv[1]);
    }
    long n = Long.parseLong(p.get("n"));
    SyntheticOrders orders = new SyntheticOrders(Long.parseLong(p.get("seed")));
    long start = System.nanoTime();
    switch (scenario) {
      case KAFKA_TO_JDBC_DIRECT,
          KAFKA_TO_JDBC_FLINK,
          KAFKA_TO_JDBC_SQL_FLINK,
          KAFKA_TO_JDBC_SCD2_FLINK ->
          kafkaToJdbc(scenario, p);
      case KAFKA_TO_LAKE_FLINK -> kafkaToLake(p);
      case SINK_SLUICE -> sinkSluice(orders, n, p);
      case SINK_LOOP -> sinkLoop(orders, n, p);
      case SINK_COPY -> sinkCopy(orders, n, p);
      case FILES_TO_LAKE_DIRECT -> filesToLake(p);
      case FILES_MANY_SMALL -> filesToLake(with(p, "input", p.get("smallFiles") + "/*.csv"));
      case FILES_TO_ICEBERG_DIRECT ->
          filesToLake(
              with(
                  with(p, "output", "iceberg:" + LakeCount.TABLE),
                  "extra",
                  "--warehouse=" + p.get("work") + "/warehouse " + p.getOrDefault("extra", "")));
      case ICEBERG_LOOP -> icebergLoop(orders, p);
      case FILES_LOOP -> filesLoop(orders, p);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("scenario", scenario.id());
    result.put("records", n);
    result.put("seconds", seconds);
    result.put("peak_rss_bytes", peakRss());
    System.out.println(RESULT + new ObjectMapper().writeValueAsString(result));
    System.exit(0);
  }

  /** kafka-to-jdbc-sql-flink's transform: every order passes the filter, so all N rows land. */
  static final String SQL =
      "SELECT order_id, customer_id, amount, CAST(amount * 100 AS BIGINT) AS amount_cents,"
          + " LOWER(currency) AS currency, status, version, updated_at FROM input"
          + " WHERE amount >= 0 AND status <> 'LOST'";

  /** The table kafka-to-jdbc-sql-flink writes: the transform's columns. */
  static final String SQL_TABLE =
      "(order_id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL,"
          + " amount_cents bigint NOT NULL, currency text NOT NULL, status text NOT NULL,"
          + " version bigint NOT NULL, updated_at timestamptz NOT NULL)";

  /** kafka-to-jdbc-scd2-flink's history table and its ledger, for a table named {@code %1$s}. */
  static final String SCD2_TABLES =
      "CREATE TABLE %1$s (LIKE orders INCLUDING DEFAULTS, valid_from bigint NOT NULL, valid_to"
          + " bigint, is_current boolean NOT NULL, is_deleted boolean NOT NULL, PRIMARY KEY"
          + " (order_id, valid_from)); CREATE TABLE %1$s_versions (LIKE orders INCLUDING DEFAULTS,"
          + " PRIMARY KEY (order_id, version))";

  private static void kafkaToJdbc(Scenario scenario, Map<String, String> p) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "kafka-to-jdbc",
                "--bounded",
                "--bootstrapServers=" + p.get("bootstrapServers"),
                "--topic=" + p.get("topic"),
                "--jdbcUrl=" + p.get("jdbcUrl"),
                "--jdbcUser=postgres",
                "--table=" + p.get("table"),
                "--deadLetter=file:" + p.get("work") + "/dlq",
                "--runReport=" + p.get("work") + "/run-report.json"));
    if (scenario != Scenario.KAFKA_TO_JDBC_DIRECT) {
      args.addAll(List.of("--runner=FlinkRunner", "--flinkMaster=[local]"));
    }
    if (scenario == Scenario.KAFKA_TO_JDBC_SCD2_FLINK) {
      args.add("--history=scd2");
    }
    if (scenario == Scenario.KAFKA_TO_JDBC_SQL_FLINK) {
      args.add("--sql=" + SQL);
    }
    args.addAll(extra(p));
    launch(args);
  }

  private static void kafkaToLake(Map<String, String> p) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "kafka-to-lake",
                "--bounded",
                "--bootstrapServers=" + p.get("bootstrapServers"),
                "--topic=" + p.get("topic"),
                "--output=iceberg:" + LakeCount.TABLE,
                "--warehouse=" + p.get("work") + "/warehouse",
                "--deadLetter=file:" + p.get("work") + "/dlq",
                "--runReport=" + p.get("work") + "/run-report.json",
                "--runner=FlinkRunner",
                "--flinkMaster=[local]"));
    args.addAll(extra(p));
    launch(args);
  }

  private static void filesToLake(Map<String, String> p) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "files-to-lake",
                "--input=" + p.get("input"),
                "--output=" + p.getOrDefault("output", p.get("work") + "/lake"),
                "--deadLetter=file:" + p.get("work") + "/dlq"));
    args.addAll(extra(p));
    launch(args);
  }

  private static Map<String, String> with(Map<String, String> p, String key, String value) {
    Map<String, String> changed = new HashMap<>(p);
    changed.put(key, value);
    return changed;
  }

  /** Runner tuning under test, passed as {@code extra=--a=b --c=d}. */
  private static List<String> extra(Map<String, String> p) {
    String extra = p.getOrDefault("extra", "").trim();
    return extra.isEmpty() ? List.of() : List.of(extra.split("[,\\s]+"));
  }

  private static void launch(List<String> args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        new Launcher(System.out, new PrintStream(err, true, StandardCharsets.UTF_8))
            .execute(args.toArray(String[]::new));
    if (code != Launcher.OK) {
      throw new IllegalStateException(
          args.get(0) + " exited " + code + ": " + err.toString(StandardCharsets.UTF_8));
    }
  }

  /** Sluice's JDBC sink alone: generated rows straight into {@link JdbcUpsert}. */
  private static void sinkSluice(SyntheticOrders orders, long n, Map<String, String> p) {
    // The launcher's Direct defaults (checks off outside tests), then the run's own flags.
    List<String> args =
        new ArrayList<>(List.of("--enforceImmutability=false", "--enforceEncodability=false"));
    args.addAll(extra(p));
    Pipeline pipeline =
        Pipeline.create(PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).create());
    long seed = Long.parseLong(p.get("seed"));
    pipeline
        .apply("Generate", GenerateSequence.from(0).to(n))
        .apply("Orders", ParDo.of(new ToOrder(seed)))
        .setCoder(Traced.coder(AvroCoder.of(orders.schema())))
        .apply(
            "Upsert",
            JdbcUpsert.into(
                JdbcConnection.of(p.get("jdbcUrl"), "postgres", null),
                UpsertSql.of(p.get("table"), orders.schema(), List.of("order_id"), "version"),
                "bench"));
    pipeline.run().waitUntilFinish();
  }

  static final class ToOrder extends DoFn<Long, Traced<GenericRecord>> {
    private final long seed;
    private transient SyntheticOrders orders;

    ToOrder(long seed) {
      this.seed = seed;
    }

    @Setup
    public void setup() {
      orders = new SyntheticOrders(seed);
    }

    @ProcessElement
    public void process(@Element Long i, OutputReceiver<Traced<GenericRecord>> out) {
      out.output(Traced.of(SourceRecord.of("bench#" + i, new byte[0]), orders.record(i)));
    }
  }

  private static final String COLUMNS =
      "order_id, customer_id, amount, currency, status, created_at, updated_at, version, note,"
          + " channel";
  private static final String UPDATES =
      "customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, currency ="
          + " EXCLUDED.currency, status = EXCLUDED.status, created_at = EXCLUDED.created_at,"
          + " updated_at = EXCLUDED.updated_at, version = EXCLUDED.version, note = EXCLUDED.note,"
          + " channel = EXCLUDED.channel";

  /** Baseline (a): one connection, batches of 1000, one commit per batch. */
  private static void sinkLoop(SyntheticOrders orders, long n, Map<String, String> p)
      throws Exception {
    String table = p.get("table");
    String sql =
        "INSERT INTO "
            + table
            + " ("
            + COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (order_id) DO UPDATE SET "
            + UPDATES
            + " WHERE "
            + table
            + ".version <= EXCLUDED.version";
    try (Connection c = DriverManager.getConnection(p.get("jdbcUrl"), "postgres", "");
        PreparedStatement s = c.prepareStatement(sql)) {
      c.setAutoCommit(false);
      for (long i = 0; i < n; i++) {
        Object[] f = orders.fields(i);
        s.setLong(1, (Long) f[0]);
        s.setLong(2, (Long) f[1]);
        s.setBigDecimal(3, (BigDecimal) f[2]);
        s.setString(4, (String) f[3]);
        s.setString(5, (String) f[4]);
        s.setObject(6, Instant.ofEpochMilli((Long) f[5]).atOffset(ZoneOffset.UTC));
        s.setObject(7, Instant.ofEpochMilli((Long) f[6]).atOffset(ZoneOffset.UTC));
        s.setLong(8, (Long) f[7]);
        s.setString(9, (String) f[8]);
        s.setString(10, (String) f[9]);
        s.addBatch();
        if ((i + 1) % 1000 == 0 || i == n - 1) {
          s.executeBatch();
          c.commit();
        }
      }
    }
  }

  /** Baseline (b): COPY into an unlogged staging table, then one merge. */
  private static void sinkCopy(SyntheticOrders orders, long n, Map<String, String> p)
      throws Exception {
    String table = p.get("table");
    String stage = table + "_stage";
    try (Connection c = DriverManager.getConnection(p.get("jdbcUrl"), "postgres", "");
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("DROP TABLE IF EXISTS " + stage);
      s.execute("CREATE UNLOGGED TABLE " + stage + " (LIKE " + table + " INCLUDING DEFAULTS)");
      Reader rows =
          new Reader() {
            private long next;
            private String line = "";
            private int at;

            @Override
            public int read(char[] buffer, int off, int len) {
              int written = 0;
              while (written < len) {
                if (at == line.length()) {
                  if (next == n) {
                    return written == 0 ? -1 : written;
                  }
                  line = orders.csv(next++) + "\n";
                  at = 0;
                }
                int count = Math.min(len - written, line.length() - at);
                line.getChars(at, at + count, buffer, off + written);
                at += count;
                written += count;
              }
              return written;
            }

            @Override
            public void close() {}
          };
      c.unwrap(PGConnection.class)
          .getCopyAPI()
          .copyIn("COPY " + stage + " (" + COLUMNS + ") FROM STDIN (FORMAT csv)", rows);
      s.execute(
          "INSERT INTO "
              + table
              + " ("
              + COLUMNS
              + ") SELECT "
              + COLUMNS
              + " FROM "
              + stage
              + " ON CONFLICT (order_id) DO UPDATE SET "
              + UPDATES
              + " WHERE "
              + table
              + ".version <= EXCLUDED.version");
      s.execute("DROP TABLE " + stage);
      c.commit();
    }
  }

  /** Baseline for files-to-lake: read, parse and check with the same parser, write Avro by day. */
  private static void filesLoop(SyntheticOrders orders, Map<String, String> p) throws Exception {
    RecordParser parser = RecordParser.of(orders.schema(), InputFormat.parse("csv"));
    Path input = Path.of(p.get("input"));
    Path lake = Files.createDirectories(Path.of(p.get("work"), "lake"));
    Map<String, DataFileWriter<GenericRecord>> writers = new HashMap<>();
    long rejected = 0;
    try (BufferedReader reader = Files.newBufferedReader(input, StandardCharsets.UTF_8)) {
      byte[] header = reader.readLine().getBytes(StandardCharsets.UTF_8);
      String line;
      long number = 1;
      while ((line = reader.readLine()) != null) {
        number++;
        SourceRecord record =
            new SourceRecord(
                "file:" + input + "#" + number,
                line.getBytes(StandardCharsets.UTF_8),
                null,
                header);
        GenericRecord order;
        try {
          order = parser.parse(record);
        } catch (RecordException | RecordFiltered e) {
          rejected++;
          continue;
        }
        String day =
            "dt="
                + Instant.ofEpochMilli((Long) order.get("created_at")).toString().substring(0, 10);
        DataFileWriter<GenericRecord> writer = writers.get(day);
        if (writer == null) {
          writer = new DataFileWriter<>(new GenericDatumWriter<GenericRecord>(orders.schema()));
          Path dir = Files.createDirectories(lake.resolve(day));
          writer.create(orders.schema(), dir.resolve("part-0.avro").toFile());
          writers.put(day, writer);
        }
        writer.append(order);
      }
    }
    for (DataFileWriter<GenericRecord> writer : writers.values()) {
      writer.close();
    }
    if (rejected > 0) {
      throw new IllegalStateException(rejected + " synthetic lines were rejected");
    }
  }

  /**
   * Baseline for files-to-lake into Iceberg: the same parser, Iceberg's generic Parquet writer (a
   * data file per day), one commit; no Beam.
   */
  private static void icebergLoop(SyntheticOrders orders, Map<String, String> p) throws Exception {
    RecordParser parser = RecordParser.of(orders.schema(), InputFormat.parse("csv"));
    Path input = Path.of(p.get("input"));
    IcebergCatalog catalog = LakeCount.benchCatalog(Path.of(p.get("work")));
    catalog.using(
        opened ->
            IcebergTables.ensure(
                opened,
                org.apache.iceberg.catalog.TableIdentifier.parse(LakeCount.TABLE),
                orders.schema(),
                "day(created_at)"));
    IcebergFiles sink = IcebergFiles.of(catalog, LakeCount.TABLE);
    sink.setup();
    Map<String, FileSink.OpenFile> writers = new HashMap<>();
    long rejected = 0;
    try (BufferedReader reader = Files.newBufferedReader(input, StandardCharsets.UTF_8)) {
      byte[] header = reader.readLine().getBytes(StandardCharsets.UTF_8);
      String line;
      long number = 1;
      while ((line = reader.readLine()) != null) {
        number++;
        GenericRecord order;
        try {
          order =
              parser.parse(
                  new SourceRecord(
                      "file:" + input + "#" + number,
                      line.getBytes(StandardCharsets.UTF_8),
                      null,
                      header));
        } catch (RecordException | RecordFiltered e) {
          rejected++;
          continue;
        }
        String partition = sink.partition(order);
        FileSink.OpenFile writer = writers.get(partition);
        if (writer == null) {
          writer = sink.open(partition, "part-loop");
          writers.put(partition, writer);
        }
        writer.write(order);
      }
    }
    List<WrittenFile> files = new ArrayList<>();
    for (FileSink.OpenFile writer : writers.values()) {
      files.add(writer.close());
    }
    sink.teardown();
    IcebergCommit.commit(
        catalog, LakeCount.TABLE, files, List.of("part-loop"), Map.of(), "loop", null);
    if (rejected > 0) {
      throw new IllegalStateException(rejected + " synthetic lines were rejected");
    }
  }

  /** This process's peak resident set size in bytes ({@code VmHWM}), or -1 off Linux. */
  static long peakRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}

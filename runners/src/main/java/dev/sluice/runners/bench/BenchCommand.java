package dev.sluice.runners.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sluice.runners.ForkedRun;
import dev.sluice.runners.Migrations;
import dev.sluice.runners.sandbox.LocalFiles;
import dev.sluice.runners.sandbox.Sandbox;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code sluice bench}: the benchmark harness. Starts the sandbox (real PostgreSQL, real Kafka
 * broker), generates N synthetic orders from a fixed seed for each size, runs every scenario in a
 * JVM of its own ({@link BenchChild}), checks that each wrote exactly N rows, and writes a markdown
 * table and a JSON file of figures and ratios (computed within this one run) with the machine's
 * description.
 */
public final class BenchCommand {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final PrintStream out;
  private final Path output;
  private final long seed;
  private final List<Long> sizes;
  private final List<Scenario> scenarios;
  private final String heap;
  private final Map<Scenario, String> extra;
  private final boolean profile;
  private final Set<String> skip;

  BenchCommand(
      PrintStream out,
      Path output,
      long seed,
      List<Long> sizes,
      List<Scenario> scenarios,
      String heap,
      Map<Scenario, String> extra,
      boolean profile,
      Set<String> skip) {
    this.out = out;
    this.output = output;
    this.seed = seed;
    this.sizes = sizes;
    this.scenarios = scenarios;
    this.heap = heap;
    this.extra = extra;
    this.profile = profile;
    this.skip = skip;
  }

  /** Options: see {@link #USAGE}. */
  public static final String USAGE =
      "bench [--sizes=100000,1000000] [--scenarios=all|<id>,...] [--seed=42] [--heap=2g]"
          + " [--skip=<id>@<size>,...] [--output=target/bench] [--directArgs=--a=b,--c=d]"
          + " [--flinkArgs=...] [--profile] | bench --render=<dir with bench.json>";

  public static int run(String[] args, PrintStream out) throws Exception {
    Map<String, String> flags = new LinkedHashMap<>();
    List<String> known =
        List.of(
            "sizes",
            "scenarios",
            "skip",
            "seed",
            "heap",
            "output",
            "directArgs",
            "flinkArgs",
            "profile",
            "render");
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      if (!arg.startsWith("--") || !known.contains(kv[0])) {
        throw new IllegalArgumentException("Unknown bench option " + arg + "; usage: " + USAGE);
      }
      flags.put(kv[0], kv.length > 1 ? kv[1] : "true");
    }
    if (flags.containsKey("render")) {
      return render(Path.of(flags.get("render")), out);
    }
    List<Long> sizes =
        Arrays.stream(flags.getOrDefault("sizes", "100000,1000000").split(","))
            .map(s -> Long.parseLong(s.trim().replace("_", "")))
            .toList();
    String which = flags.getOrDefault("scenarios", "all");
    List<Scenario> scenarios =
        which.equals("all")
            ? List.of(Scenario.values())
            : Arrays.stream(which.split(",")).map(String::trim).map(Scenario::byId).toList();
    Map<Scenario, String> extra = new LinkedHashMap<>();
    String direct = flags.getOrDefault("directArgs", "");
    for (Scenario s :
        List.of(
            Scenario.KAFKA_TO_JDBC_DIRECT,
            Scenario.FILES_TO_LAKE_DIRECT,
            Scenario.FILES_MANY_SMALL,
            Scenario.FILES_TO_ICEBERG_DIRECT,
            Scenario.SINK_SLUICE)) {
      extra.put(s, direct);
    }
    extra.put(Scenario.KAFKA_TO_JDBC_FLINK, flags.getOrDefault("flinkArgs", ""));
    return new BenchCommand(
            out,
            Path.of(flags.getOrDefault("output", "target/bench")).toAbsolutePath(),
            Long.parseLong(flags.getOrDefault("seed", "42")),
            sizes,
            scenarios,
            flags.getOrDefault("heap", "2g"),
            extra,
            Boolean.parseBoolean(flags.getOrDefault("profile", "false")),
            flags.containsKey("skip") ? Set.of(flags.get("skip").split(",")) : Set.of())
        .run();
  }

  int run() throws Exception {
    Files.createDirectories(output);
    List<Map<String, Object>> results = new ArrayList<>();
    try (Sandbox sandbox = Sandbox.start(output.resolve("sandbox"))) {
      String jdbcUrl = sandbox.postgres().jdbcUrl();
      Migrations.on(jdbcUrl, "postgres", null).apply();
      SyntheticOrders orders = new SyntheticOrders(seed);
      for (long n : sizes) {
        Path data = Files.createDirectories(output.resolve("data-" + n));
        String topic = "bench-" + n + "-" + Long.toString(System.nanoTime(), 36);
        Path csv = data.resolve("orders.csv");
        Predicate<Scenario> runs = scenario -> !skip.contains(scenario.id() + "@" + n);
        if (scenarios.stream().filter(runs).anyMatch(s -> s.group.equals("kafka-to-jdbc"))) {
          out.printf("producing %,d orders to %s...%n", n, topic);
          sandbox.kafka().createTopic(topic, 2);
          produce(sandbox.kafka().bootstrapServers(), topic, orders, n);
        }
        String peerTopic = topic + "-connect";
        if (scenarios.contains(Scenario.PEER_DEBEZIUM_JDBC)
            && runs.test(Scenario.PEER_DEBEZIUM_JDBC)) {
          out.printf("producing %,d orders as Connect JSON to %s...%n", n, peerTopic);
          sandbox.kafka().createTopic(peerTopic, 2);
          produceConnect(sandbox.kafka().bootstrapServers(), peerTopic, orders, n);
        }
        if (scenarios.stream().filter(runs).anyMatch(s -> s.group.equals("files-to-lake"))) {
          out.printf("writing %,d orders to %s...%n", n, csv);
          writeCsv(csv, orders, n);
        }
        Path small = data.resolve("small-files");
        if (scenarios.contains(Scenario.FILES_MANY_SMALL) && runs.test(Scenario.FILES_MANY_SMALL)) {
          out.printf("writing %,d orders to %,d files in %s...%n", n, SMALL_FILES, small);
          writeSmallFiles(small, orders, n);
        }
        for (Scenario scenario : scenarios) {
          if (skip.contains(scenario.id() + "@" + n)) {
            out.printf("%-22s N=%,d ... skipped (--skip)%n", scenario.id(), n);
            continue;
          }
          String table = "bench_orders";
          execute(jdbcUrl, "DROP TABLE IF EXISTS " + table + ", " + table + "_versions");
          execute(
              jdbcUrl,
              scenario == Scenario.KAFKA_TO_JDBC_SCD2_FLINK
                  ? String.format(BenchChild.SCD2_TABLES, table)
                  : "CREATE TABLE "
                      + table
                      + (scenario == Scenario.KAFKA_TO_JDBC_SQL_FLINK
                          ? " " + BenchChild.SQL_TABLE
                          : " (LIKE orders INCLUDING ALL)"));
          Path work = data.resolve(scenario.id());
          LocalFiles.deleteTree(work);
          Files.createDirectories(work);
          List<String> args =
              new ArrayList<>(
                  List.of(
                      scenario.id(),
                      "n=" + n,
                      "seed=" + seed,
                      "jdbcUrl=" + jdbcUrl,
                      "table=" + table,
                      "bootstrapServers=" + sandbox.kafka().bootstrapServers(),
                      "topic=" + topic,
                      "input=" + csv,
                      "smallFiles=" + small,
                      "work=" + work));
          if (extra.containsKey(scenario)) {
            args.add("extra=" + extra.get(scenario));
          }
          out.printf("%-22s N=%,d ... ", scenario.id(), n);
          // How long after the child JVM starts the first row is in the table (kafka-to-jdbc).
          String watched =
              (scenario.group.equals("kafka-to-jdbc") && scenario != Scenario.KAFKA_TO_LAKE_FLINK)
                      || scenario.group.equals("peer")
                  ? table
                  : null;
          Map<String, Object> result;
          try {
            result =
                scenario == Scenario.PEER_DEBEZIUM_JDBC
                    ? JdbcSinkPeer.run(
                        sandbox.kafka().bootstrapServers(), peerTopic, jdbcUrl, table, n, work)
                    : child(args, work, jdbcUrl, watched);
          } catch (IllegalStateException e) {
            // A scenario that fails (out of memory, say) is a finding: reported, not fatal.
            out.println("FAILED: " + e.getMessage());
            Map<String, Object> failed = new LinkedHashMap<>();
            failed.put("scenario", scenario.id());
            failed.put("size", n);
            failed.put("group", scenario.group);
            failed.put("description", scenario.description);
            failed.put("failed", e.getMessage());
            results.add(failed);
            continue;
          }
          long rows =
              scenario == Scenario.FILES_TO_ICEBERG_DIRECT
                      || scenario == Scenario.ICEBERG_LOOP
                      || scenario == Scenario.KAFKA_TO_LAKE_FLINK
                  ? LakeCount.icebergRows(work)
                  : scenario.group.equals("files-to-lake")
                      ? LakeCount.count(work.resolve("lake"))
                      : count(jdbcUrl, "SELECT count(*) FROM " + table);
          if (rows != n) {
            throw new IllegalStateException(
                scenario.id() + " wrote " + rows + " rows, expected " + n + "; see " + work);
          }
          result.put("size", n);
          result.put("group", scenario.group);
          result.put("description", scenario.description);
          double seconds = ((Number) result.get("seconds")).doubleValue();
          result.put("records_per_second", Math.round(n / seconds));
          results.add(result);
          out.printf(
              "%8.1f s %,10d rec/s  peak RSS %,6d MB%n",
              seconds,
              Math.round(n / seconds),
              ((Number) result.get("peak_rss_bytes")).longValue() >> 20);
        }
      }
    }
    BenchReport report = new BenchReport(results, sizes);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("date", Instant.now().toString());
    json.put("seed", seed);
    json.put("child_heap", heap);
    json.put("machine", BenchReport.machine());
    json.put("results", results);
    json.put("ratios", report.ratios());
    Files.writeString(output.resolve("bench.json"), JSON.writeValueAsString(json));
    String markdown = report.markdown(BenchReport.machine(), heap, LocalDate.now().toString());
    Files.writeString(output.resolve("bench.md"), markdown);
    out.println();
    out.print(markdown);
    out.println("wrote " + output.resolve("bench.md") + " and " + output.resolve("bench.json"));
    return 0;
  }

  /** Rewrites bench.md (and the ratios of bench.json) from a run's figures. */
  @SuppressWarnings("unchecked")
  static int render(Path dir, PrintStream out) throws IOException {
    Map<String, Object> json = JSON.readValue(dir.resolve("bench.json").toFile(), Map.class);
    List<Map<String, Object>> results = (List<Map<String, Object>>) json.get("results");
    List<Long> sizes =
        results.stream()
            .map(r -> ((Number) r.get("size")).longValue())
            .distinct()
            .sorted()
            .toList();
    BenchReport report = new BenchReport(results, sizes);
    json.put("ratios", report.ratios());
    Files.writeString(dir.resolve("bench.json"), JSON.writeValueAsString(json));
    String markdown =
        report.markdown(
            (Map<String, Object>) json.get("machine"),
            String.valueOf(json.get("child_heap")),
            String.valueOf(json.get("date")).substring(0, 10));
    Files.writeString(dir.resolve("bench.md"), markdown);
    out.print(markdown);
    return 0;
  }

  private Map<String, Object> child(
      List<String> args, Path work, String jdbcUrl, String watchedTable) throws Exception {
    Path log = work.resolve("child.log");
    Path jfr = work.resolve("profile.jfr");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + heap);
    if (profile) {
      command.add("-XX:StartFlightRecording=settings=profile,filename=" + jfr);
    }
    command.add("-Dsluice.forked=true");
    command.add("-cp");
    command.add(ForkedRun.classpath());
    command.add(BenchChild.class.getName());
    command.addAll(args);
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    FirstRow firstRow = watchedTable == null ? null : FirstRow.watch(jdbcUrl, watchedTable);
    boolean finished = false;
    long deadline = System.nanoTime() + TimeUnit.HOURS.toNanos(2);
    while (!finished && System.nanoTime() < deadline) {
      finished = process.waitFor(5, TimeUnit.SECONDS);
      // A JVM that ran out of memory may hang instead of exiting: stop it and say so.
      if (!finished && outOfMemory(log)) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        throw new IllegalStateException(args.get(0) + " ran out of memory (-Xmx" + heap + ")");
      }
    }
    if (!finished) {
      process.destroyForcibly();
      throw new IllegalStateException(args.get(0) + " timed out; see " + log);
    }
    String result =
        Files.readAllLines(log, StandardCharsets.UTF_8).stream()
            .filter(l -> l.startsWith(BenchChild.RESULT))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        args.get(0) + " failed (exit " + process.exitValue() + "); see " + log));
    JsonNode node = JSON.readTree(result.substring(BenchChild.RESULT.length()));
    Map<String, Object> map = new LinkedHashMap<>();
    node.fields()
        .forEachRemaining(e -> map.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class)));
    if (firstRow != null) {
      Double seconds = firstRow.stop();
      if (seconds != null) {
        map.put("first_row_seconds", Math.round(seconds * 10) / 10.0);
      }
    }
    return map;
  }

  private static boolean outOfMemory(Path log) {
    try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
      return lines.anyMatch(l -> l.contains("java.lang.OutOfMemoryError"));
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  /** Watches a table from when a process starts until it holds a row: the time to the first row. */
  static final class FirstRow {
    private final long started = System.nanoTime();
    private volatile Double seconds;
    private volatile boolean stopped;
    private Thread thread;

    static FirstRow watch(String jdbcUrl, String table) {
      FirstRow watch = new FirstRow();
      watch.thread =
          new Thread(
              () -> {
                try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
                    Statement s = c.createStatement()) {
                  while (!watch.stopped) {
                    try (ResultSet rs =
                        s.executeQuery("SELECT EXISTS (SELECT 1 FROM " + table + ")")) {
                      rs.next();
                      if (rs.getBoolean(1)) {
                        watch.seconds = (System.nanoTime() - watch.started) / 1e9;
                        return;
                      }
                    }
                    Thread.sleep(100);
                  }
                } catch (Exception e) {
                  // No figure rather than a wrong one.
                }
              },
              "first-row");
      watch.thread.setDaemon(true);
      watch.thread.start();
      return watch;
    }

    Double stop() throws InterruptedException {
      stopped = true;
      thread.join(5_000);
      return seconds;
    }
  }

  private static void produce(String bootstrap, String topic, SyntheticOrders orders, long n)
      throws Exception {
    produce(bootstrap, topic, n, i -> null, orders::json);
  }

  private static void produceConnect(String bootstrap, String topic, SyntheticOrders orders, long n)
      throws Exception {
    produce(bootstrap, topic, n, orders::connectKey, orders::connectJson);
  }

  /** Orders 0..n-1 over two partitions, batched and compressed, waiting once at the end. */
  private static void produce(
      String bootstrap, String topic, long n, LongFunction<byte[]> key, LongFunction<byte[]> value)
      throws Exception {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("acks", "1");
    config.put("linger.ms", 20);
    config.put("batch.size", 262144);
    config.put("compression.type", "lz4");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (long i = 0; i < n; i++) {
        producer.send(new ProducerRecord<>(topic, (int) (i % 2), key.apply(i), value.apply(i)));
      }
      producer.flush();
    }
  }

  /** How many files files-many-small spreads the orders over. */
  static final int SMALL_FILES = 20_000;

  /** The orders dealt over {@link #SMALL_FILES} CSV files (fewer when there are fewer orders). */
  private static void writeSmallFiles(Path dir, SyntheticOrders orders, long n) throws IOException {
    LocalFiles.deleteTree(dir);
    Files.createDirectories(dir);
    long files = Math.min(SMALL_FILES, n);
    for (long f = 0; f < files; f++) {
      try (BufferedWriter writer =
          Files.newBufferedWriter(
              dir.resolve(String.format("orders-%05d.csv", f)), StandardCharsets.UTF_8)) {
        writer.write(SyntheticOrders.CSV_HEADER);
        writer.write('\n');
        for (long i = f; i < n; i += files) {
          writer.write(orders.csv(i));
          writer.write('\n');
        }
      }
    }
  }

  private static void writeCsv(Path csv, SyntheticOrders orders, long n) throws IOException {
    try (BufferedWriter writer = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
      writer.write(SyntheticOrders.CSV_HEADER);
      writer.write('\n');
      for (long i = 0; i < n; i++) {
        writer.write(orders.csv(i));
        writer.write('\n');
      }
    }
  }

  private static void execute(String jdbcUrl, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static long count(String jdbcUrl, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.notNullValue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.runners.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenLineage run events of each pipeline, through the file transport and an HTTP server started
 * here, checked against the spec's required fields and types and Sluice's dataset names.
 */
@ExtendWith(SharedSandbox.class)
class LineageEndToEndTest extends LauncherCalls {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;

  private static List<JsonNode> fileEvents(Path lineage) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    for (String line : Files.readAllLines(lineage.resolve("openlineage.jsonl"))) {
      events.add(JSON.readTree(line));
    }
    return events;
  }

  /** The spec's required fields of a RunEvent, with their types, and of every facet. */
  private static void assertRunEvent(JsonNode e, String job) {
    assertThat(e.toString(), e.get("eventType").isTextual(), is(true));
    assertThat(
        List.of("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"),
        hasItem(e.get("eventType").asText()));
    assertThat(Instant.parse(e.get("eventTime").asText()), notNullValue());
    assertThat(URI.create(e.get("producer").asText()).isAbsolute(), is(true));
    assertThat(
        e.get("schemaURL").asText(),
        equalTo("https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"));
    UUID runId = UUID.fromString(e.get("run").get("runId").asText());
    assertThat("a UUIDv7", runId.version(), is(7));
    assertThat(e.get("job").get("namespace").asText(), equalTo("sluice"));
    assertThat(e.get("job").get("name").asText(), equalTo(job));
    for (String side : List.of("inputs", "outputs")) {
      assertThat(e.get(side).isArray(), is(true));
      for (JsonNode d : e.get(side)) {
        assertThat(d.get("namespace").isTextual() && d.get("name").isTextual(), is(true));
      }
    }
    e.findParents("_producer")
        .forEach(
            facet -> {
              assertThat(URI.create(facet.get("_producer").asText()).isAbsolute(), is(true));
              assertThat(
                  facet.get("_schemaURL").asText(), containsString("https://openlineage.io/spec/"));
            });
  }

  private static String names(JsonNode datasets) {
    List<String> out = new ArrayList<>();
    datasets.forEach(d -> out.add(d.get("namespace").asText() + " " + d.get("name").asText()));
    return out.toString();
  }

  private Path orders(String name, String... rows) throws Exception {
    Path in = Files.createDirectories(dir.resolve(name));
    Files.writeString(in.resolve("orders.csv"), HEADER + String.join("\n", rows) + "\n");
    return in;
  }

  @Test
  void filesToLakeSendsStartThenCompleteWithSchemaStatisticsAndQuality() throws Exception {
    Path in =
        orders(
            "in",
            "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,",
            "2,20,2.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,n");
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: null_rate, field: note, max: 0.6}\n");
    Path lake = dir.resolve("lake");
    Path lineage = dir.resolve("lineage");
    assertOk(
        run(
            "files-to-lake",
            "--input=" + in + "/*.csv",
            "--output=" + lake,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--rules=" + rules,
            "--lineage=file:" + lineage,
            "--parentRunId=0190d5c6-8e3c-7d1a-9b2e-3f4a5b6c7d8e",
            "--parentJob=airflow/daily_orders"));

    List<JsonNode> events = fileEvents(lineage);
    assertThat(events.size(), is(2));
    events.forEach(e -> assertRunEvent(e, "files-to-lake"));
    assertThat(events.get(0).get("eventType").asText(), equalTo("START"));
    assertThat(events.get(1).get("eventType").asText(), equalTo("COMPLETE"));
    assertThat(
        events.get(0).get("run").get("runId"), equalTo(events.get(1).get("run").get("runId")));
    JsonNode complete = events.get(1);
    assertThat(names(complete.get("inputs")), equalTo("[file " + in.toAbsolutePath() + "/*.csv]"));
    assertThat(
        names(complete.get("outputs")),
        equalTo("[file " + lake.toAbsolutePath() + ", file " + dir.resolve("dlq") + "]"));
    JsonNode parent = complete.get("run").get("facets").get("parent");
    assertThat(
        parent.get("run").get("runId").asText(), equalTo("0190d5c6-8e3c-7d1a-9b2e-3f4a5b6c7d8e"));
    assertThat(
        parent.get("job").toString(),
        equalTo("{\"namespace\":\"airflow\",\"name\":\"daily_orders\"}"));
    JsonNode output = complete.get("outputs").get(0);
    assertThat(output.get("outputFacets").get("outputStatistics").get("rowCount").asLong(), is(2L));
    JsonNode fields = output.get("facets").get("schema").get("fields");
    assertThat(fields.get(0).toString(), containsString("\"name\":\"order_id\",\"type\":\"long\""));
    JsonNode input = complete.get("inputs").get(0);
    assertThat(
        input.get("facets").get("dataQualityAssertions").get("assertions").toString(),
        equalTo("[{\"assertion\":\"null_rate(note)\",\"success\":true,\"column\":\"note\"}]"));
    JsonNode metrics = input.get("inputFacets").get("dataQualityMetrics");
    assertThat(metrics.get("rowCount").asLong(), is(2L));
    assertThat(metrics.get("columnMetrics").get("note").get("nullCount").asLong(), is(1L));
  }

  /**
   * Into an Iceberg table: the output is the table's location (as files are named) with the table,
   * as its catalog names it, in a symlinks facet; its statistics are the snapshot's own (rows, data
   * files, bytes).
   */
  @Test
  void filesToLakeIntoAnIcebergTableNamesItsLocationAndTableAndTheSnapshotsStatistics()
      throws Exception {
    Path in =
        orders(
            "in",
            "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,",
            "2,20,2.00,EUR,NEW,2026-11-25T09:00:00Z,2026-11-25T09:00:00Z,1,n");
    Path warehouse = dir.resolve("warehouse");
    Path lineage = dir.resolve("lineage");
    assertOk(
        run(
            "files-to-lake",
            "--input=" + in + "/*.csv",
            "--output=iceberg:lake.orders",
            "--warehouse=" + warehouse,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--lineage=file:" + lineage));
    JsonNode complete = fileEvents(lineage).get(1);
    JsonNode output = complete.get("outputs").get(0);
    assertThat(
        output.get("namespace").asText() + " " + output.get("name").asText(),
        equalTo("file " + warehouse.toAbsolutePath().resolve("lake/orders")));
    assertThat(
        output.get("facets").get("symlinks").get("identifiers").toString(),
        equalTo(
            "[{\"namespace\":\"jdbc:sqlite:"
                + warehouse.resolve("sluice-catalog.db")
                + "\",\"name\":\"lake.orders\",\"type\":\"TABLE\"}]"));
    JsonNode stats = output.get("outputFacets").get("outputStatistics");
    assertThat(stats.get("rowCount").asLong(), is(2L));
    assertThat("a data file per day", stats.get("fileCount").asLong(), is(2L));
    long bytes = 0;
    try (var files = Files.walk(warehouse.resolve("lake/orders/data"))) {
      for (Path f : files.filter(f -> f.toString().endsWith(".parquet")).toList()) {
        bytes += Files.size(f);
      }
    }
    assertThat(stats.get("size").asLong(), is(bytes));
  }

  /**
   * kafka-to-lake merging by key: the input is the topic on its broker, the output the Iceberg
   * table's location with the table in a symlinks facet, and its statistics are the merge commit's
   * snapshot (the rows it added: the newest version of each key).
   */
  @Test
  void kafkaToLakeNamesItsTopicAndItsTableWithTheMergeSnapshotsStatistics() throws Exception {
    String topic = SharedSandbox.newTopic("lineage-lake", 1);
    SharedSandbox.produce(
        topic,
        0,
        json(1, 1, "1.00", "NEW"),
        json(1, 2, "2.00", "PAID"),
        json(2, 1, "3.00", "NEW"),
        utf8("{bad"));
    Path warehouse = dir.resolve("warehouse");
    Path lineage = dir.resolve("lineage");
    assertOk(
        run(
            "kafka-to-lake",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=" + topic,
            "--bounded",
            "--keyFields=order_id",
            "--output=iceberg:lake.events",
            "--warehouse=" + warehouse,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--lineage=file:" + lineage));
    List<JsonNode> events = fileEvents(lineage);
    assertThat(events.size(), is(2));
    events.forEach(e -> assertRunEvent(e, "kafka-to-lake"));
    JsonNode complete = events.get(1);
    assertThat(complete.get("eventType").asText(), equalTo("COMPLETE"));
    String bootstrap = SharedSandbox.bootstrapServers().split(",")[0];
    assertThat(names(complete.get("inputs")), equalTo("[kafka://" + bootstrap + " " + topic + "]"));
    JsonNode output = complete.get("outputs").get(0);
    assertThat(
        output.get("namespace").asText() + " " + output.get("name").asText(),
        equalTo("file " + warehouse.toAbsolutePath().resolve("lake/events")));
    assertThat(
        output.get("facets").get("symlinks").get("identifiers").get(0).get("name").asText(),
        equalTo("lake.events"));
    assertThat(output.get("outputFacets").get("outputStatistics").get("rowCount").asLong(), is(2L));
  }

  /**
   * A run that fails while planning (here: its input files never came) is still a run: it sends
   * START and then FAIL with the error, the same run id on both, and no datasets (none was
   * resolved), and the launcher says where the events went.
   */
  @Test
  void aRunThatFailsWhilePlanningSendsStartAndFailWithTheError() throws Exception {
    Path missing = dir.resolve("never-came");
    Path lineage = dir.resolve("lineage-unplanned");
    int code =
        run(
            "files-to-lake",
            "--input=" + missing + "/*.csv",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--lineage=file:" + lineage);
    assertThat(code == 0, is(false));
    List<JsonNode> events = fileEvents(lineage);
    assertThat(events.size(), is(2));
    events.forEach(e -> assertRunEvent(e, "files-to-lake"));
    assertThat(events.get(0).get("eventType").asText(), equalTo("START"));
    assertThat(events.get(1).get("eventType").asText(), equalTo("FAIL"));
    assertThat(
        events.get(1).get("run").get("runId").asText(),
        equalTo(events.get(0).get("run").get("runId").asText()));
    JsonNode error = events.get(1).get("run").get("facets").get("errorMessage");
    assertThat(error.get("message").asText(), containsString(missing.toString()));
    assertThat(events.get(1).get("inputs").size(), is(0));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString("(failed before it ran) sent to file:" + lineage));
  }

  @Test
  void aFailingRunSendsFailWithTheError() throws Exception {
    Path in =
        orders(
            "dup",
            "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,",
            "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,");
    Path rules =
        Files.writeString(
            dir.resolve("unique.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: unique, fields: [order_id]}\n");
    Path lineage = dir.resolve("lineage-fail");
    assertThat(
        run(
            "files-to-lake",
            "--input=" + in + "/*.csv",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--rules=" + rules,
            "--lineage=file:" + lineage),
        is(Launcher.QUALITY));
    List<JsonNode> events = fileEvents(lineage);
    assertThat(events.size(), is(2));
    events.forEach(e -> assertRunEvent(e, "files-to-lake"));
    assertThat(events.get(1).get("eventType").asText(), equalTo("FAIL"));
    JsonNode error = events.get(1).get("run").get("facets").get("errorMessage");
    assertThat(error.get("message").asText(), containsString("Quality gate closed"));
    assertThat(error.get("programmingLanguage").asText(), equalTo("Java"));
    assertThat(
        events.get(1).get("inputs").get(0).get("facets").get("dataQualityAssertions").toString(),
        containsString(
            "{\"assertion\":\"unique(order_id)\",\"success\":false,\"column\":\"order_id\"}"));
  }

  @Test
  void kafkaToJdbcSendsItsEventsToAnHttpBackendWithKafkaAndPostgresNames() throws Exception {
    List<JsonNode> received = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/api/v1/lineage",
        exchange -> {
          received.add(JSON.readTree(exchange.getRequestBody()));
          exchange.sendResponseHeaders(201, -1);
          exchange.close();
        });
    server.start();
    try {
      String topic = SharedSandbox.newTopic("lineage-kafka", 1);
      SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"));
      String table = SharedSandbox.newTableLike("orders", "orders_lineage");
      assertOk(
          run(
              "kafka-to-jdbc",
              "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
              "--topic=" + topic,
              "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
              "--jdbcUser=postgres",
              "--table=" + table,
              "--bounded",
              "--deadLetter=file:" + dir.resolve("dlq"),
              "--lineage=http://127.0.0.1:" + server.getAddress().getPort() + "/api/v1/lineage"));
    } finally {
      server.stop(0);
    }
    assertThat(received.size(), is(2));
    received.forEach(e -> assertRunEvent(e, "kafka-to-jdbc"));
    assertThat(received.get(0).get("eventType").asText(), equalTo("START"));
    assertThat(received.get(1).get("eventType").asText(), equalTo("COMPLETE"));
    URI db = URI.create(SharedSandbox.jdbcUrl().replaceFirst("^jdbc:", ""));
    String bootstrap = SharedSandbox.bootstrapServers().split(",")[0];
    JsonNode complete = received.get(1);
    assertThat(
        names(complete.get("inputs")),
        equalTo(
            "[kafka://"
                + bootstrap
                + " "
                + complete.get("inputs").get(0).get("name").asText()
                + "]"));
    assertThat(complete.get("inputs").get(0).get("name").asText(), containsString("lineage-kafka"));
    assertThat(
        names(complete.get("outputs"))
            .startsWith(
                "[postgres://"
                    + db.getHost()
                    + ":"
                    + db.getPort()
                    + " "
                    + db.getPath().substring(1)
                    + ".public.orders_lineage, "),
        is(true));
    assertThat(
        complete
            .get("outputs")
            .get(0)
            .get("outputFacets")
            .get("outputStatistics")
            .get("rowCount")
            .asLong(),
        is(1L));
  }

  /**
   * A backend that sends its headers and then stalls, and one that accepts the connection and never
   * answers, each cost a run at most about {@code --lineageTimeout}: events are delivered from a
   * queue while the run goes on, every exchange bounded as a whole. Credentials in the lineage URL
   * (user info, query values) are printed nowhere, neither in the summary nor in the warnings.
   */
  @Test
  void aStalledOrSilentBackendCostsARunAtMostItsDeadlineAndNoCredentialIsPrinted()
      throws Exception {
    String canary = "canary-" + UUID.randomUUID();
    HttpServer stalling = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    CountDownLatch never = new CountDownLatch(1);
    stalling.setExecutor(Executors.newCachedThreadPool());
    stalling.createContext(
        "/api/v1/lineage",
        exchange -> {
          exchange.sendResponseHeaders(200, 0); // a body of unknown length, which never comes
          exchange.getResponseBody().flush();
          try {
            never.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    stalling.start();
    ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    PrintStream stderr = System.err;
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
      for (int port : List.of(stalling.getAddress().getPort(), silent.getLocalPort())) {
        Path in =
            orders("in-" + port, "1,7,1.00,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,");
        out.reset();
        long started = System.nanoTime();
        assertOk(
            run(
                "files-to-lake",
                "--input=" + in + "/*.csv",
                "--output=" + dir.resolve("lake-" + port),
                "--deadLetter=file:" + dir.resolve("dlq-" + port),
                "--lineageTimeout=PT1S",
                "--lineage=http://svc:"
                    + canary
                    + "@127.0.0.1:"
                    + port
                    + "/api/v1/lineage?api_key="
                    + canary));
        long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
        // Before: each event waited for an answer that never ended (or 3 x 10 s for none).
        assertThat("seconds the run took", seconds < 30, is(true));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed, containsString("event(s) NOT delivered"));
        assertThat(
            printed,
            containsString("http://***@127.0.0.1:" + port + "/api/v1/lineage?api_key=***"));
        assertThat(printed, org.hamcrest.Matchers.not(containsString(canary)));
      }
    } finally {
      System.setErr(stderr);
      never.countDown();
      stalling.stop(0);
      silent.close();
    }
    assertThat(
        warnings.toString(StandardCharsets.UTF_8),
        org.hamcrest.Matchers.not(containsString(canary)));
  }

  /** jdbc-to-lake of table lineage_src into {@code lake}, its lineage sent to {@code lineage}. */
  private int exportLineageSrc(Path lake, String lineage) {
    return run(
        "jdbc-to-lake",
        "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
        "--jdbcUser=postgres",
        "--table=lineage_src",
        "--output=" + lake,
        "--partitionField=updated_at",
        "--deadLetter=file:" + dir.resolve("dlq"),
        "--lineage=" + lineage);
  }

  @Test
  void jdbcToLakeNamesItsTableAndARunIsNotHarmedWhenTheBackendIsDown() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS lineage_src");
    SharedSandbox.execute(
        "CREATE TABLE lineage_src (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL)");
    SharedSandbox.execute("INSERT INTO lineage_src VALUES (1, '2026-11-24T09:00:00Z')");
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    assertOk(
        exportLineageSrc(
            dir.resolve("lake"), "http://127.0.0.1:" + closedPort + "/api/v1/lineage"));
    String printed = out.toString(StandardCharsets.UTF_8).replaceAll(" +", " ");
    assertThat(printed, containsString("written 1\n"));
    assertThat(printed, containsString("(2 event(s) NOT delivered: see the log)"));
    assertThat(Files.exists(dir.resolve("lake/_SUCCESS")), is(true));

    Path lineage = dir.resolve("lineage-jdbc");
    assertOk(exportLineageSrc(dir.resolve("lake2"), "file:" + lineage));
    List<JsonNode> events = fileEvents(lineage);
    events.forEach(e -> assertThat(e.get("job").get("name").asText(), equalTo("jdbc-to-lake")));
    URI db = URI.create(SharedSandbox.jdbcUrl().replaceFirst("^jdbc:", ""));
    assertThat(
        names(events.get(1).get("inputs")),
        equalTo(
            "[postgres://"
                + db.getHost()
                + ":"
                + db.getPort()
                + " "
                + db.getPath().substring(1)
                + ".public.lineage_src]"));
  }
}

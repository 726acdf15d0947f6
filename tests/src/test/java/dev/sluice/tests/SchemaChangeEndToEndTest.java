package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.pipelines.filestolake.FilesToLakeOptions;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.SchemaCompatibilityCheck;
import dev.sluice.schemas.Schemas;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A field appears mid-topic that the contract lacks, on a real broker and database: reported once
 * under every policy; dead-lettered (the default), stopping the run before it publishes, or added
 * as a nullable column whose old rows read NULL.
 */
@ExtendWith(SharedSandbox.class)
class SchemaChangeEndToEndTest extends LauncherCalls {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** The order's JSON with one more field. */
  private static byte[] with(byte[] order, String field, String valueJson) {
    String text = new String(order, StandardCharsets.UTF_8);
    return (text.substring(0, text.length() - 1) + ",\"" + field + "\":" + valueJson + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Two plain orders, then two that carry a coupon (and one also points): offsets 2 and 3. */
  private static String topicWithANewField(String name) throws Exception {
    String topic = SharedSandbox.newTopic(name, 1);
    SharedSandbox.produce(
        topic,
        0,
        json(1, 1, "1.00", "NEW"),
        json(2, 1, "2.00", "NEW"),
        with(with(json(3, 1, "3.00", "NEW"), "coupon", "\"WELCOME\""), "points", "7"),
        with(json(1, 2, "1.50", "PAID"), "coupon", "\"SPRING\""));
    return topic;
  }

  /** Two orders as JSON lines in {@code file}; the second carries a coupon. */
  private static void ordersGainingACoupon(Path file) throws Exception {
    Files.write(
        file,
        List.of(
            new String(json(1, 1, "1.00", "NEW"), StandardCharsets.UTF_8),
            new String(
                with(json(2, 1, "2.00", "NEW"), "coupon", "\"X\""), StandardCharsets.UTF_8)));
  }

  /** The candidate contract at {@code path}: Order v3, accepted by the build's check. */
  private static Schema acceptedCandidate(Path path) throws Exception {
    Schema next = new Schema.Parser().parse(Files.readString(path));
    assertThat(Schemas.version(next), is(3));
    SortedMap<Integer, Schema> versions = new TreeMap<>(Schemas.history("Order").versions());
    versions.put(3, next);
    assertThat(SchemaCompatibilityCheck.violations("Order", versions), equalTo(List.of()));
    return next;
  }

  private String[] args(String topic, String table, String... more) {
    return KafkaToJdbcArgs.with(
        KafkaToJdbcArgs.of(
            topic,
            table,
            "--consumerGroup=" + topic,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--runReport=" + dir.resolve("report.json"),
            "--bounded"),
        more);
  }

  private JsonNode report() throws Exception {
    return JSON.readTree(dir.resolve("report.json").toFile());
  }

  @Test
  void underTheDefaultTheRecordsAreDeadLettersAndTheChangeIsReportedOnce() throws Exception {
    String topic = topicWithANewField("change-dead-letter");
    String table = SharedSandbox.newTableLike("orders", "orders_change_dead_letter");
    Path lineage = dir.resolve("lineage");
    assertOk(run(args(topic, table, "--lineage=file:" + lineage)));

    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id || '@' || version, ',' ORDER BY order_id) FROM " + table),
        equalTo("1@1,2@1"));
    List<DeadLetter> letters = LakeFiles.readDeadLetters(dir.resolve("dlq"));
    assertThat(letters.size(), is(2));
    for (DeadLetter letter : letters) {
      assertThat(letter.getReason(), equalTo("schema"));
      assertThat(
          letter.getErrorMessage(),
          containsString("unknown field 'coupon' is not in schema Order"));
    }
    JsonNode changes = report().get("schema_changes");
    assertThat(changes.size(), is(2));
    assertThat(
        changes.get(0).toString(),
        equalTo(
            "{\"field\":\"coupon\",\"type\":\"string\",\"first_origin\":\"kafka:"
                + topic
                + "/0@2\"}"));
    assertThat(
        changes.get(1).toString(),
        equalTo(
            "{\"field\":\"points\",\"type\":\"long\",\"first_origin\":\"kafka:"
                + topic
                + "/0@2\"}"));
    assertThat(report().get("counters").get("dead_lettered").asLong(), is(2L));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("schema changes"));
    assertBalanced(dir.resolve("report.json"));

    // The input's schema facet at completion lists the new fields as schema changes.
    List<String> events = Files.readAllLines(lineage.resolve("openlineage.jsonl"));
    JsonNode complete = JSON.readTree(events.get(events.size() - 1));
    assertThat(complete.get("eventType").asText(), equalTo("COMPLETE"));
    JsonNode fields = complete.get("inputs").get(0).get("facets").get("schema").get("fields");
    JsonNode last = fields.get(fields.size() - 1);
    assertThat(last.get("name").asText(), equalTo("points"));
    assertThat(last.get("type").asText(), equalTo("long"));
    assertThat(
        last.get("description").asText(),
        equalTo("schema change: not in the contract; first seen at kafka:" + topic + "/0@2"));
    assertThat(fields.get(fields.size() - 2).get("name").asText(), equalTo("coupon"));
  }

  @Test
  void underFailABoundedRunStopsAndPublishesNothing() throws Exception {
    String topic = topicWithANewField("change-fail");
    String table = SharedSandbox.newTableLike("orders", "orders_change_fail");
    assertThat(run(args(topic, table, "--onSchemaChange=fail")), is(Launcher.RUN_FAILED));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "schema change: field 'coupon' (string) is not in schema Order; first seen at kafka:"
                + topic
                + "/0@2. --onSchemaChange=fail stops the run"));
    // The rows read before the change were staged, never merged: the table holds nothing.
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(0L));
  }

  /**
   * A streaming run on Flink {@code [local]} with checkpointing (whose restart strategy would
   * restart a failed job again and again) stops at the first record with a new field, naming it.
   */
  @Test
  void underFailAStreamingRunOnFlinkStopsAtOnce() throws Exception {
    String topic = topicWithANewField("change-fail-streaming");
    String table = SharedSandbox.newTableLike("orders", "orders_change_fail_streaming");
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                KafkaToJdbcArgs.of(
                    topic,
                    table,
                    "--consumerGroup=" + topic,
                    "--deadLetter=file:" + dir.resolve("dlq"),
                    "--onSchemaChange=fail",
                    "--runner=FlinkRunner",
                    "--flinkMaster=[local]",
                    "--checkpointingInterval=1000")));
    Path log = dir.resolve("launcher.log");
    Process launcher = launch(args, log);
    try {
      assertThat(
          "the launcher ended; its log:\n" + Files.readString(log),
          launcher.waitFor(3, java.util.concurrent.TimeUnit.MINUTES),
          is(true));
      assertThat(launcher.exitValue(), is(Launcher.RUN_FAILED));
      assertThat(
          Files.readString(log),
          containsString(
              "IllegalStateException: schema change: field 'coupon' (string) is not in schema"
                  + " Order"));
    } finally {
      launcher.destroyForcibly().waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void underAddColumnsTheFieldBecomesANullableColumnAndACandidateContract() throws Exception {
    String topic = topicWithANewField("change-add");
    String table = SharedSandbox.newTableLike("orders", "orders_change_add");
    assertOk(run(args(topic, table, "--onSchemaChange=add_columns")));

    // Old rows read NULL, new rows carry the value; order 1's newer version brought a coupon.
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id || ':' || version || ':' || coalesce(coupon, 'NULL') || ':'"
                + " || coalesce(points::text, 'NULL'), ',' ORDER BY order_id) FROM "
                + table),
        equalTo("1:2:SPRING:NULL,2:1:NULL:NULL,3:1:WELCOME:7"));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY column_name) FROM"
                + " information_schema.columns WHERE table_name = '"
                + table
                + "' AND column_name IN ('coupon', 'points')"),
        equalTo("coupon text,points bigint"));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(column_name || ' ' || avro_type || ' ' || first_origin || ' '"
                + " || pipeline, ',' ORDER BY column_name) FROM sluice_schema_changes WHERE"
                + " table_name = '"
                + table
                + "'"),
        equalTo(
            "coupon string kafka:"
                + topic
                + "/0@2 kafka-to-jdbc,points long kafka:"
                + topic
                + "/0@2 kafka-to-jdbc"));
    assertThat(report().get("schema_changes").size(), is(2));
    // Order 1's two versions share a batch: the older one is superseded there.
    assertThat(report().get("counters").get("written").asLong(), is(3L));
    assertThat(report().get("filtered_by").get("superseded").asLong(), is(1L));
    assertBalanced(dir.resolve("report.json"));

    // The candidate contract: the next version, which the build's compatibility check accepts.
    Path candidate = dir.resolve("candidate-schemas/order/v3.avsc");
    Schema next = acceptedCandidate(candidate);
    assertThat(next.getField("coupon").schema().toString(), equalTo("[\"null\",\"string\"]"));
    assertThat(next.getField("points").schema().toString(), equalTo("[\"null\",\"long\"]"));

    // The next run reads the added columns as part of its contract: no change to report.
    SharedSandbox.produce(
        topic,
        0,
        with(json(4, 1, "4.00", "NEW"), "coupon", "\"LATER\""),
        json(3, 2, "3.50", "PAID"));
    out.reset();
    assertOk(run(args(topic, table, "--onSchemaChange=add_columns")));
    assertThat(report().get("schema_changes").size(), is(0));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id || ':' || version || ':' || coalesce(coupon, 'NULL') || ':'"
                + " || coalesce(points::text, 'NULL'), ',' ORDER BY order_id) FROM "
                + table),
        equalTo("1:2:SPRING:NULL,2:1:NULL:NULL,3:2:NULL:NULL,4:1:LATER:NULL"));
  }

  /**
   * Two writers of one table under add_columns: a streaming writer that has not met a new field
   * updates a row after another run added the field's column and wrote it; the row's value there is
   * the streaming writer's record's (none: NULL), not left as the other run wrote it.
   */
  @Test
  void aWriterThatMissedAnAddedColumnStillSetsItOnTheRowsItUpdates() throws Exception {
    String table = SharedSandbox.newTableLike("orders", "orders_two_writers");
    String streamed = SharedSandbox.newTopic("change-stream", 1);
    KafkaToJdbcOptions options =
        StreamingOrders.kafkaToJdbc(streamed, table, dir.resolve("dlq-stream"));
    options.setOnSchemaChange(dev.sluice.transforms.parse.SchemaChanges.Policy.add_columns);
    PipelineResult stream = PipelineRun.build(new KafkaToJdbc(), options).pipeline().run();
    try {
      // Another run adds coupon, with order 1's version 2.
      String batch = SharedSandbox.newTopic("change-batch", 1);
      SharedSandbox.produce(batch, 0, with(json(1, 2, "1.00", "PAID"), "coupon", "\"X\""));
      assertOk(run(args(batch, table, "--onSchemaChange=add_columns")));
      String row =
          "SELECT version || ':' || coalesce(coupon, 'NULL') FROM " + table + " WHERE order_id = 1";
      assertThat(SharedSandbox.text(row), equalTo("2:X"));
      // The stream, planned before coupon existed, brings order 1's version 3 without it.
      SharedSandbox.produce(streamed, 0, json(1, 3, "1.00", "SHIPPED"));
      assertThat(StreamingOrders.await(() -> SharedSandbox.text(row), "3:NULL"), equalTo("3:NULL"));
    } finally {
      stream.cancel();
      stream.waitUntilFinish(org.joda.time.Duration.standardSeconds(30));
    }
  }

  /**
   * files-to-lake (JSON lines) reports a new field the same way; under fail the bounded run stops
   * before it publishes a file, and add_columns is refused for the lake.
   */
  @Test
  void filesToLakeReportsANewFieldAndFailPublishesNothing() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    ordersGainingACoupon(in.resolve("orders.jsonl"));
    String[] base = {
      "files-to-lake",
      "--input=" + in + "/*.jsonl",
      "--format=jsonl",
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--runReport=" + dir.resolve("report.json")
    };
    Path kept = dir.resolve("lake-kept");
    assertOk(run(KafkaToJdbcArgs.with(base, "--output=" + kept)));
    assertThat(
        report().get("schema_changes").toString(),
        equalTo(
            "[{\"field\":\"coupon\",\"type\":\"string\",\"first_origin\":\"file:"
                + in.resolve("orders.jsonl")
                + "#2\"}]"));
    assertThat(report().get("counters").get("written").asLong(), is(1L));

    Path stopped = dir.resolve("lake-stopped");
    assertThat(
        run(KafkaToJdbcArgs.with(base, "--output=" + stopped, "--onSchemaChange=fail")),
        is(Launcher.RUN_FAILED));
    assertThat(LakeFiles.files(stopped, ".avro"), equalTo(List.of()));

    err.reset();
    assertThat(
        run(KafkaToJdbcArgs.with(base, "--output=" + stopped, "--onSchemaChange=add_columns")),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "--onSchemaChange=add_columns adds columns to an Iceberg table"
                + " (--output=iceberg:<namespace>.<table>), but --output="
                + stopped
                + " is a directory lake"));
  }

  /**
   * A CSV file whose header names a column the contract lacks is a schema change too: reported once
   * with its first origin (the file's lines are schema dead letters), and under fail the run stops
   * before it publishes.
   */
  @Test
  void filesToLakeReportsACsvHeaderColumnAsASchemaChange() throws Exception {
    Path in = Files.createDirectories(dir.resolve("csv"));
    Files.writeString(
        in.resolve("orders.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,coupon\n"
            + "1,2,1.50,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,X\n");
    String[] base = {
      "files-to-lake",
      "--input=" + in + "/*.csv",
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--runReport=" + dir.resolve("report.json")
    };
    assertOk(run(KafkaToJdbcArgs.with(base, "--output=" + dir.resolve("lake-csv"))));
    JsonNode changes = report().get("schema_changes");
    assertThat(changes.size(), is(1));
    assertThat(changes.get(0).get("field").asText(), equalTo("coupon"));
    assertThat(changes.get(0).get("type").asText(), equalTo("string"));
    assertThat(
        changes.get(0).get("first_origin").asText(),
        containsString("file:" + in.resolve("orders.csv") + "#"));
    assertThat(report().get("dead_lettered_by_reason").get("schema").asLong() >= 1, is(true));
    assertBalanced(dir.resolve("report.json"));

    Path stopped = dir.resolve("lake-csv-stopped");
    assertThat(
        run(KafkaToJdbcArgs.with(base, "--output=" + stopped, "--onSchemaChange=fail")),
        is(Launcher.RUN_FAILED));
    assertThat(LakeFiles.files(stopped, ".avro"), equalTo(List.of()));
  }

  /** Each row of an Iceberg table as {@code order_id:version:coupon:points}, sorted. */
  private List<String> lakeRows(String table) throws Exception {
    return IcebergReads.ordersWithNewFields(dir.resolve("warehouse"), table);
  }

  /** The Iceberg table {@code name} of the test's warehouse. */
  private org.apache.iceberg.Table icebergTable(String name) throws Exception {
    return IcebergReads.catalog(dir.resolve("warehouse"))
        .using(c -> c.loadTable(org.apache.iceberg.catalog.TableIdentifier.parse(name)));
  }

  /**
   * kafka-to-lake under add_columns: the new field becomes an optional column of the Iceberg table
   * (rows written before read NULL), recorded in the table's properties with its first origin; a
   * value that does not fit a column the table has (another writer's {@code points}, a long) is a
   * schema dead letter; a merge by key writes the new columns too; the candidate contract passes
   * the build's check; and the next run reads the added column as part of its contract.
   */
  @Test
  void kafkaToLakeAddsTheNewFieldAsAColumnOfItsIcebergTable() throws Exception {
    String topic = SharedSandbox.newTopic("change-lake", 1);
    SharedSandbox.produce(
        topic,
        0,
        json(1, 1, "1.00", "NEW"),
        json(2, 1, "2.00", "NEW"),
        with(with(json(3, 1, "3.00", "NEW"), "coupon", "\"WELCOME\""), "points", "7"),
        with(json(1, 2, "1.50", "PAID"), "coupon", "\"SPRING\""),
        with(json(5, 1, "5.00", "NEW"), "points", "\"many\""));
    // Another writer gave the table a column the contract lacks: points, a long.
    IcebergReads.catalog(Files.createDirectories(dir.resolve("warehouse")))
        .using(
            c -> {
              org.apache.iceberg.Schema schema =
                  dev.sluice.io.iceberg.IcebergTables.schemaOf(
                      dev.sluice.schemas.Order.getClassSchema());
              for (String name : List.of("lake.orders_add", "lake.orders_merged")) {
                org.apache.iceberg.catalog.TableIdentifier id =
                    org.apache.iceberg.catalog.TableIdentifier.parse(name);
                if (c instanceof org.apache.iceberg.catalog.SupportsNamespaces namespaces
                    && !namespaces.namespaceExists(id.namespace())) {
                  namespaces.createNamespace(id.namespace());
                }
                c.createTable(id, schema)
                    .updateSchema()
                    .addColumn("points", org.apache.iceberg.types.Types.LongType.get())
                    .commit();
              }
              return null;
            });
    String[] appended = {
      "kafka-to-lake",
      "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
      "--topic=" + topic,
      "--consumerGroup=" + topic,
      "--bounded",
      "--output=iceberg:lake.orders_add",
      "--warehouse=" + dir.resolve("warehouse"),
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--runReport=" + dir.resolve("report.json"),
      "--onSchemaChange=add_columns"
    };
    assertOk(run(appended));
    assertThat(
        lakeRows("lake.orders_add"),
        equalTo(List.of("1:1:null:null", "1:2:SPRING:null", "2:1:null:null", "3:1:WELCOME:7")));
    org.apache.iceberg.Table table = icebergTable("lake.orders_add");
    assertThat(table.schema().findField("coupon").type().toString(), equalTo("string"));
    assertThat(table.schema().findField("coupon").isOptional(), is(true));
    JsonNode recorded = JSON.readTree(table.properties().get("sluice.schema-change.coupon"));
    assertThat(recorded.get("type").asText(), equalTo("string"));
    assertThat(recorded.get("first_origin").asText(), equalTo("kafka:" + topic + "/0@2"));
    assertThat(recorded.get("pipeline").asText(), equalTo("kafka-to-lake"));
    assertThat(table.properties().containsKey("sluice.schema-change.points"), is(false));
    List<DeadLetter> dead = LakeFiles.readDeadLetters(dir.resolve("dlq"));
    assertThat(
        dead.stream().map(d -> d.getOrigin() + " " + d.getReason() + " " + d.getStep()).toList(),
        equalTo(List.of("kafka:" + topic + "/0@4 schema AddColumns")));
    assertThat(dead.get(0).getErrorMessage(), containsString("'points'"));
    assertThat(report().get("schema_changes").size(), is(2));
    assertBalanced(dir.resolve("report.json"));

    Path candidate = dir.resolve("candidate-schemas/order/v3.avsc");
    Schema next = acceptedCandidate(candidate);
    assertThat(next.getField("coupon").schema().toString(), equalTo("[\"null\",\"string\"]"));

    // Merged by key: the newest version of each key, its new columns included.
    String[] merged =
        java.util.Arrays.stream(KafkaToJdbcArgs.with(appended, "--keyFields=order_id"))
            .map(
                a ->
                    a.startsWith("--output=")
                        ? "--output=iceberg:lake.orders_merged"
                        : a.startsWith("--consumerGroup=") ? a + "-merged" : a)
            .toArray(String[]::new);
    assertOk(run(merged));
    assertThat(
        lakeRows("lake.orders_merged"),
        equalTo(List.of("1:2:SPRING:null", "2:1:null:null", "3:1:WELCOME:7")));

    // The next run: coupon is part of the contract now, not a change to report again.
    SharedSandbox.produce(
        topic,
        0,
        with(json(4, 1, "4.00", "NEW"), "coupon", "\"LATER\""),
        json(6, 1, "6.00", "NEW"));
    assertOk(run(appended));
    assertThat(report().get("schema_changes").size(), is(0));
    assertThat(
        lakeRows("lake.orders_add"),
        equalTo(
            List.of(
                "1:1:null:null",
                "1:2:SPRING:null",
                "2:1:null:null",
                "3:1:WELCOME:7",
                "4:1:LATER:null",
                "6:1:null:null")));
  }

  /**
   * files-to-lake under add_columns into an Iceberg table, bounded and watching: a file whose lines
   * gain a field adds its column, the lines before it read NULL there; the watching run's writers
   * follow the table's new columns in later files.
   */
  @Test
  void filesToLakeAddsTheNewFieldAsAColumnWhetherBoundedOrWatching() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    ordersGainingACoupon(in.resolve("a.jsonl"));
    String[] base = {
      "files-to-lake",
      "--input=" + in + "/*.jsonl",
      "--format=jsonl",
      "--output=iceberg:lake.files_add",
      "--warehouse=" + dir.resolve("warehouse"),
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--runReport=" + dir.resolve("report.json"),
      "--onSchemaChange=add_columns"
    };
    assertOk(run(base));
    assertThat(lakeRows("lake.files_add"), equalTo(List.of("1:1:null:-", "2:1:X:-")));
    assertBalanced(dir.resolve("report.json"));
    assertThat(Files.exists(dir.resolve("candidate-schemas/order/v3.avsc")), is(true));

    // Watching: a later file brings another field; its column is added while the run goes on.
    FilesToLakeOptions options = PipelineOptionsFactory.as(FilesToLakeOptions.class);
    options.setInput(in + "/*.jsonl");
    options.setFormat(dev.sluice.pipelines.options.RecordFormat.jsonl);
    options.setOutput("iceberg:lake.files_watched");
    options.setWarehouse(dir.resolve("warehouse").toString());
    options.setDeadLetter("file:" + dir.resolve("dlq-watched"));
    options.setOnSchemaChange(dev.sluice.transforms.parse.SchemaChanges.Policy.add_columns);
    options.setWatch("PT1S");
    options.setSettleTime("PT1S");
    options.as(DirectOptions.class).setBlockOnRun(false);
    PipelineResult result = PipelineRun.build(new FilesToLake(), options).pipeline().run();
    try {
      List<String> first = List.of("1:1:null:-", "2:1:X:-");
      assertThat(
          Poll.until(
              java.time.Duration.ofSeconds(60),
              () -> rowsOrNone("lake.files_watched").equals(first)),
          is(true));
      Files.write(
          in.resolve("b.jsonl"),
          List.of(
              new String(json(3, 1, "3.00", "NEW"), StandardCharsets.UTF_8),
              new String(with(json(4, 1, "4.00", "NEW"), "points", "9"), StandardCharsets.UTF_8)));
      List<String> all = List.of("1:1:null:null", "2:1:X:null", "3:1:null:null", "4:1:null:9");
      assertThat(
          Poll.until(
              java.time.Duration.ofSeconds(60), () -> rowsOrNone("lake.files_watched").equals(all)),
          is(true));
    } finally {
      result.cancel();
      result.waitUntilFinish(org.joda.time.Duration.standardSeconds(30));
    }
  }

  private List<String> rowsOrNone(String table) {
    try {
      return lakeRows(table);
    } catch (Exception e) {
      return List.of();
    }
  }

  @Test
  void addColumnsIsRefusedWhereItCannotSeeOrKeepTheNewFields() {
    assertRefused(
        "--format=avro", "--onSchemaChange=add_columns needs JSON values (--format=json)");
    assertRefused(
        "--sql=SELECT order_id, version FROM input",
        "cannot be combined with --sql or --transform");
  }

  /** kafka-to-jdbc under add_columns with {@code option} is a usage error saying {@code why}. */
  private void assertRefused(String option, String why) {
    err.reset();
    assertThat(
        run(
            KafkaToJdbcArgs.of(
                "no-topic",
                "orders",
                "--deadLetter=file:" + dir.resolve("dlq"),
                option,
                "--onSchemaChange=add_columns")),
        is(Launcher.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString(why));
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.runners.Launcher;
import dev.sluice.runners.sandbox.ConnectWorker;
import dev.sluice.runners.sandbox.DebeziumCapture;
import dev.sluice.schemas.DeadLetter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * cdc-to-jdbc against real Debezium: a seeded random workload of inserts, updates and deletes (keys
 * deleted and inserted again) on a source table is captured by Debezium's PostgreSQL connector, and
 * a bounded run leaves the replica equal to the source, row by row. Replaying the whole topic
 * changes nothing; the same events in a shuffled order, with malformed and unfit events among them,
 * converge to the same replica; tombstones are counted, bad events dead-lettered with their
 * offsets.
 */
@ExtendWith({SharedSandbox.class, SharedFlinkCluster.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CdcToJdbcEndToEndTest extends LauncherCalls {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int OPERATIONS = 2_000;
  private static final int INITIAL_ROWS = 20;
  private static final String COLUMNS =
      "order_id, customer_id, amount, currency, status, created_at, updated_at, version, note,"
          + " channel";

  @TempDir Path dir;
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String source = "cdc_source_" + suffix;
  private final String prefix = "cdc" + suffix;
  private String topic;
  private int deletes;

  @BeforeAll
  void captureAWorkload(@TempDir Path work) throws Exception {
    createSource(source);
    Random random = new Random(20261201L);
    Map<Long, Long> versions = new TreeMap<>();
    try (Connection c = SharedSandbox.get().postgres().connect();
        Statement s = c.createStatement()) {
      for (long id = 1; id <= INITIAL_ROWS; id++) {
        s.execute(insert(source, id, 1, random));
        versions.put(id, 1L);
      }
    }
    topic = DebeziumCapture.topic(prefix, source);
    try (ConnectWorker capture =
        DebeziumCapture.start(
            work,
            SharedSandbox.bootstrapServers(),
            SharedSandbox.get().postgres(),
            DebeziumCapture.Settings.of(prefix, source))) {
      deletes = workload(source, OPERATIONS, versions, random);
      long expected = INITIAL_ROWS + OPERATIONS + deletes;
      assertThat(
          "events on " + topic,
          StreamingOrders.await(() -> endOffsets(topic), expected),
          is(expected));
      assertThat(capture.process().isAlive(), is(true));
    }
  }

  /** A source table of the Order contract; deletes carry their whole row. */
  private static void createSource(String table) throws Exception {
    SharedSandbox.execute(
        "CREATE TABLE "
            + table
            + " (order_id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2)"
            + " NOT NULL, currency varchar(3) NOT NULL, status text NOT NULL, created_at"
            + " timestamptz(3) NOT NULL, updated_at timestamptz(3) NOT NULL, version bigint NOT"
            + " NULL, note text, channel text NOT NULL DEFAULT 'web')");
    SharedSandbox.execute("ALTER TABLE " + table + " REPLICA IDENTITY FULL");
  }

  /**
   * {@code operations} random changes to {@code table} over 150 keys, each its own transaction: an
   * absent key is inserted, a present one updated (7 in 10) or deleted, so keys are deleted and
   * inserted again. Returns the number of deletes.
   */
  private static int workload(String table, int operations, Map<Long, Long> versions, Random random)
      throws Exception {
    int deleted = 0;
    try (Connection c = SharedSandbox.get().postgres().connect();
        Statement s = c.createStatement()) {
      for (int i = 0; i < operations; i++) {
        long id = 1 + random.nextInt(150);
        Long version = versions.get(id);
        if (version == null) {
          s.execute(insert(table, id, 1, random));
          versions.put(id, 1L);
        } else if (random.nextInt(10) < 7) {
          s.execute(
              "UPDATE "
                  + table
                  + " SET version = "
                  + (version + 1)
                  + ", status = '"
                  + status(random)
                  + "', amount = "
                  + amount(random)
                  + ", note = "
                  + (random.nextBoolean() ? "NULL" : "'n" + i + "'")
                  + ", updated_at = now() WHERE order_id = "
                  + id);
          versions.put(id, version + 1);
        } else {
          s.execute("DELETE FROM " + table + " WHERE order_id = " + id);
          versions.remove(id);
          deleted++;
        }
      }
    }
    return deleted;
  }

  @AfterAll
  void dropSource() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS " + source);
  }

  private static String insert(String table, long id, long version, Random random) {
    return "INSERT INTO "
        + table
        + " VALUES ("
        + id
        + ", "
        + (1 + random.nextInt(50))
        + ", "
        + amount(random)
        + ", 'EUR', '"
        + status(random)
        + "', now(), now(), "
        + version
        + ", NULL, 'web')";
  }

  private static String amount(Random random) {
    return random.nextInt(100_000) / 100 + "." + String.format("%02d", random.nextInt(100));
  }

  private static String status(Random random) {
    return List.of("NEW", "PAID", "SHIPPED", "CANCELLED").get(random.nextInt(4));
  }

  private static String replica(String name) throws Exception {
    String table = SharedSandbox.newTableLike("orders", name);
    SharedSandbox.execute(
        "ALTER TABLE "
            + table
            + " ADD COLUMN _cdc_position bigint NOT NULL, ADD COLUMN _cdc_deleted boolean NOT NULL"
            + " DEFAULT false");
    return table;
  }

  /** The source's rows, and the replica's live rows, as one text each, by key. */
  private static String rows(String table, boolean replica) throws Exception {
    return SharedSandbox.text(
        "SELECT md5(coalesce(string_agg(concat_ws('|', "
            + COLUMNS
            + "), ',' ORDER BY order_id), '')) FROM "
            + table
            + (replica ? " WHERE NOT _cdc_deleted" : ""));
  }

  private String[] args(String topicName, String table, String group, Path out) {
    String[] args =
        KafkaToJdbcArgs.of(
            topicName,
            table,
            "--consumerGroup=" + group,
            "--bounded",
            "--deadLetter=file:" + out.resolve("dlq"),
            "--runReport=" + out.resolve("report.json"));
    args[0] = "cdc-to-jdbc";
    return args;
  }

  /** The captured topic's events, in order; a tombstone is an empty array. */
  private List<byte[]> capturedEvents() {
    List<byte[]> events = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records(topic)) {
      events.add(r.value() == null ? new byte[0] : r.value());
    }
    return events;
  }

  /** Every record of a topic, in order within each partition, up to its end offsets when called. */
  private static List<ConsumerRecord<byte[], byte[]>> records(String topicName) {
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of("bootstrap.servers", SharedSandbox.bootstrapServers()),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = partitions(consumer, topicName);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long end = endOffsets(topicName);
      long position = 0;
      while (position < end) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          records.add(r);
        }
        position = partitions.stream().mapToLong(consumer::position).sum();
      }
    }
    return records;
  }

  /** The events on a new topic of {@code partitions}, spread over them in turn. */
  private static String produce(String name, int partitions, List<byte[]> events) throws Exception {
    String target = SharedSandbox.newTopic(name, partitions);
    send(spread(target, partitions, events));
    return target;
  }

  /** The events as records of {@code topic}, spread over its partitions in turn. */
  private static List<ProducerRecord<byte[], byte[]>> spread(
      String topic, int partitions, List<byte[]> events) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (byte[] event : events) {
      records.add(
          new ProducerRecord<>(
              topic, records.size() % partitions, null, event.length == 0 ? null : event));
    }
    return records;
  }

  /**
   * Sends the records in order and waits for each acknowledgement: a send that failed (a batch
   * expired) fails here, not as missing offsets later.
   */
  private static void send(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", SharedSandbox.bootstrapServers(), "acks", "all"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      for (ProducerRecord<byte[], byte[]> record : records) {
        sent.add(producer.send(record));
      }
      producer.flush();
      for (java.util.concurrent.Future<?> f : sent) {
        f.get();
      }
    }
  }

  /** An SCD2 history table of the replica's shape, and its ledger. */
  private static String historyTables(String name) throws Exception {
    String ledger = replica(name + "_versions");
    SharedSandbox.execute(
        "ALTER TABLE "
            + ledger
            + " DROP CONSTRAINT "
            + ledger
            + "_pkey, ADD PRIMARY KEY (order_id,"
            + " _cdc_position)");
    String history = replica(name);
    SharedSandbox.execute(
        "ALTER TABLE "
            + history
            + " DROP CONSTRAINT "
            + history
            + "_pkey, ADD COLUMN valid_from bigint NOT NULL, ADD COLUMN valid_to bigint, ADD COLUMN"
            + " is_current boolean NOT NULL, ADD COLUMN is_deleted boolean NOT NULL, ADD PRIMARY"
            + " KEY (order_id, valid_from)");
    return history;
  }

  /**
   * The properties every SCD2 history must have: a key's intervals follow one another without
   * overlap, one current row per live key and none for a deleted one, the current rows equal to the
   * source.
   */
  private void assertHistory(String history) throws Exception {
    assertThat(
        "overlapping intervals",
        SharedSandbox.count(
            "SELECT count(*) FROM "
                + history
                + " a JOIN "
                + history
                + " b ON a.order_id = b.order_id AND a.valid_from < b.valid_from AND (a.valid_to"
                + " IS NULL OR a.valid_to > b.valid_from)"),
        is(0L));
    assertThat(
        "gaps between intervals",
        SharedSandbox.count(
            "SELECT count(*) FROM "
                + history
                + " a WHERE a.valid_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                + history
                + " b WHERE b.order_id = a.order_id AND b.valid_from = a.valid_to)"),
        is(0L));
    assertThat(
        SharedSandbox.count(
            "SELECT count(DISTINCT order_id) FROM " + history + " WHERE is_current"),
        is(SharedSandbox.count("SELECT count(*) FROM " + source)));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + history + " WHERE is_current"),
        is(SharedSandbox.count("SELECT count(*) FROM " + source)));
    assertThat(
        "a deleted key with a current row",
        SharedSandbox.count(
            "SELECT count(*) FROM "
                + history
                + " h WHERE is_current AND NOT EXISTS (SELECT 1 FROM "
                + source
                + " s WHERE s.order_id = h.order_id)"),
        is(0L));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + history + " WHERE is_deleted"),
        greaterThan(0L));
    assertThat(
        rows("(SELECT * FROM " + history + " WHERE is_current) AS current_rows", false),
        equalTo(rows(source, false)));
  }

  /**
   * SCD2 history from the captured workload (updates, deletes, keys inserted again): the same
   * history table by checksum in order, shuffled over two partitions in small batches, read twice,
   * and streaming on Flink {@code [local]}.
   */
  @Test
  @Order(6)
  void scd2HistoryIsTheSameInOrderShuffledTwiceAndStreaming(@TempDir Path work) throws Exception {
    String inOrder = historyTables("cdc_history_" + suffix);
    String[] scd2 = {"--history=scd2"};
    assertOk(
        run(
            KafkaToJdbcArgs.with(
                args(topic, inOrder, "cdc-history-" + suffix, dir.resolve("history")), scd2)));
    assertHistory(inOrder);
    assertBalanced(dir.resolve("history/report.json"));
    String key = "order_id, valid_from";
    String expected = SharedSandbox.checksum(inOrder, key);

    List<byte[]> events = capturedEvents();
    Collections.shuffle(events, new Random(11));
    String shuffled = produce("cdc-history-shuffled", 2, events);
    String again = historyTables("cdc_history_shuffled_" + suffix);
    assertOk(
        run(
            KafkaToJdbcArgs.with(
                args(shuffled, again, "cdc-history-shuffled-" + suffix, dir.resolve("hs")),
                "--history=scd2",
                "--batchSize=40")));
    assertThat(SharedSandbox.checksum(again, key), equalTo(expected));

    // Twice: the whole topic again under a new group changes nothing.
    assertOk(
        run(
            KafkaToJdbcArgs.with(
                args(topic, again, "cdc-history-twice-" + suffix, dir.resolve("ht")), scd2)));
    assertThat(SharedSandbox.checksum(again, key), equalTo(expected));

    // Streaming on Flink [local], from the shuffled topic: it converges to the same table.
    String streamed = historyTables("cdc_history_streamed_" + suffix);
    List<String> streaming =
        new ArrayList<>(
            List.of(
                KafkaToJdbcArgs.of(
                    shuffled,
                    streamed,
                    "--consumerGroup=cdc-history-streamed-" + suffix,
                    "--deadLetter=file:" + work.resolve("dlq"),
                    "--history=scd2",
                    "--batchSize=100",
                    "--runner=FlinkRunner",
                    "--flinkMaster=[local]",
                    "--checkpointingInterval=1000")));
    streaming.set(0, "cdc-to-jdbc");
    Process launcher = launch(streaming, work.resolve("launcher.log"));
    try {
      boolean converged =
          Poll.until(
              Duration.ofMinutes(3),
              () -> !launcher.isAlive() || SharedSandbox.checksum(streamed, key).equals(expected));
      assertThat(
          "history converged while streaming; launcher log:\n"
              + Files.readString(work.resolve("launcher.log")),
          converged && launcher.isAlive(),
          is(true));
    } finally {
      launcher.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * A column added at the source ({@code ALTER TABLE ... ADD COLUMN}) reaches the change events
   * through Debezium: reported once under every policy; schema dead letters by default; a bounded
   * run that stops and publishes nothing under fail; under add_columns the replica gains the
   * columns, older rows read NULL and newer ones carry the values.
   */
  @Test
  @Order(7)
  void aColumnAddedAtTheSourceIsReportedRefusedOrAdded(@TempDir Path work) throws Exception {
    String table = "cdc_alter_source_" + suffix;
    createSource(table);
    String alterPrefix = "cdca" + suffix;
    String changes = DebeziumCapture.topic(alterPrefix, table);
    Random random = new Random(5);
    try (ConnectWorker capture =
        DebeziumCapture.start(
            work,
            SharedSandbox.bootstrapServers(),
            SharedSandbox.get().postgres(),
            DebeziumCapture.Settings.of(alterPrefix, table))) {
      SharedSandbox.execute(insert(table, 1, 1, random));
      SharedSandbox.execute(insert(table, 2, 1, random));
      // Captured before the change, so they carry the old columns.
      assertThat(StreamingOrders.await(() -> endOffsets(changes), 2L), is(2L));
      SharedSandbox.execute(
          "ALTER TABLE " + table + " ADD COLUMN coupon text, ADD COLUMN points bigint");
      SharedSandbox.execute(
          "UPDATE "
              + table
              + " SET version = 2, coupon = 'WELCOME', points = 7 WHERE order_id = 1");
      SharedSandbox.execute(insert(table, 3, 1, random));
      SharedSandbox.execute(
          "UPDATE " + table + " SET version = 2, coupon = 'SPRING' WHERE order_id = 3");
      assertThat(StreamingOrders.await(() -> endOffsets(changes), 5L), is(5L));
    } finally {
      SharedSandbox.execute("DROP TABLE IF EXISTS " + table);
    }

    // dead_letter (the default): the three events after the change are schema dead letters.
    String kept = replica("cdc_alter_dead_letter_" + suffix);
    Path out = dir.resolve("alter-dead-letter");
    assertOk(run(args(changes, kept, "cdc-alter-dl-" + suffix, out)));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + kept), is(2L));
    JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
    assertThat(report.path("dead_lettered_by_reason").path("schema").asLong(), is(3L));
    // The first event whose row has the new column (offsets need not be contiguous).
    // Reported with the origin of an event whose row has the new column (the topic has
    // partitions: which one a worker saw first is not fixed).
    List<String> carrying = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records(changes)) {
      if (r.value() != null
          && JSON.readTree(r.value()).path("payload").path("after").has("coupon")) {
        carrying.add("kafka:" + changes + "/" + r.partition() + "@" + r.offset());
      }
    }
    assertThat(carrying.size(), is(3));
    JsonNode reported = report.path("schema_changes");
    assertThat(reported.size(), is(2));
    assertThat(reported.get(0).path("field").asText(), equalTo("coupon"));
    assertThat(reported.get(0).path("type").asText(), equalTo("string"));
    assertThat(reported.get(1).path("field").asText(), equalTo("points"));
    assertThat(reported.get(1).path("type").asText(), equalTo("long"));
    assertThat(carrying, hasItem(reported.get(0).path("first_origin").asText()));

    // fail: the bounded run stops, and the replica stays empty.
    String stopped = replica("cdc_alter_fail_" + suffix);
    assertThat(
        run(
            KafkaToJdbcArgs.with(
                args(changes, stopped, "cdc-alter-fail-" + suffix, dir.resolve("alter-fail")),
                "--onSchemaChange=fail")),
        is(Launcher.RUN_FAILED));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("schema change: field 'coupon' (string) is not in schema Order"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + stopped), is(0L));

    // add_columns: the replica gains both columns; the rows carry what the source holds.
    String added = replica("cdc_alter_added_" + suffix);
    assertOk(
        run(
            KafkaToJdbcArgs.with(
                args(changes, added, "cdc-alter-add-" + suffix, dir.resolve("alter-add")),
                "--onSchemaChange=add_columns")));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(concat_ws(':', order_id, version, coalesce(coupon, '-'),"
                + " coalesce(points::text, '-')), ',' ORDER BY order_id) FROM "
                + added),
        equalTo("1:2:WELCOME:7,2:1:-:-,3:2:SPRING:-"));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY column_name) FROM"
                + " information_schema.columns WHERE table_name = '"
                + added
                + "' AND column_name IN ('coupon', 'points')"),
        equalTo("coupon text,points bigint"));
    assertBalanced(dir.resolve("alter-add/report.json"));

    // cdc-to-lake under add_columns: the Iceberg replica gains both columns the same way.
    String lake = "cdc_alter_lake_" + suffix;
    assertOk(
        run(
            lakeArgs(
                changes,
                lake,
                "cdc-alter-lake-" + suffix,
                dir.resolve("alter-lake"),
                "--onSchemaChange=add_columns")));
    assertThat(
        IcebergReads.ordersWithNewFields(dir.resolve("warehouse"), "lake." + lake),
        equalTo(List.of("1:2:WELCOME:7", "2:1:null:null", "3:2:SPRING:null")));
    assertBalanced(dir.resolve("alter-lake/report.json"));
    assertThat(Files.exists(dir.resolve("alter-lake/candidate-schemas/order/v3.avsc")), is(true));
  }

  private static JsonNode counters(Path report) throws Exception {
    return JSON.readTree(report.toFile()).get("counters");
  }

  private static JsonNode filteredBy(Path report) throws Exception {
    return JSON.readTree(report.toFile()).path("filtered_by");
  }

  /**
   * cdc-to-lake's arguments: the captured topic into Iceberg table {@code table}, merged by key.
   */
  private String[] lakeArgs(
      String topicName, String table, String group, Path out, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "cdc-to-lake",
                "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
                "--topic=" + topicName,
                "--consumerGroup=" + group,
                "--bounded",
                "--keyFields=order_id",
                "--output=iceberg:lake." + table,
                "--warehouse=" + dir.resolve("warehouse"),
                "--deadLetter=file:" + out.resolve("dlq"),
                "--runReport=" + out.resolve("report.json")));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /**
   * The live rows (not {@code _cdc_deleted}) of Iceberg table {@code table}, read with Iceberg's
   * generic reader and copied into a new PostgreSQL table shaped like the source, so that the
   * source's checksum query compares them; and the number of tombstones.
   */
  private long[] lakeIntoPostgres(String table, String copy) throws Exception {
    SharedSandbox.execute("CREATE TABLE " + copy + " (LIKE " + source + ")");
    String[] columns = COLUMNS.split(",\\s*");
    long[] counts = new long[2];
    new IcebergCatalog(
            "jdbc:sqlite:" + dir.resolve("warehouse/sluice-catalog.db"),
            dir.resolve("warehouse").toString(),
            null,
            null)
        .using(
            c -> {
              try (CloseableIterable<Record> rows =
                      IcebergGenerics.read(c.loadTable(TableIdentifier.parse("lake." + table)))
                          .build();
                  Connection pg = SharedSandbox.get().postgres().connect();
                  PreparedStatement insert =
                      pg.prepareStatement(
                          "INSERT INTO "
                              + copy
                              + " ("
                              + COLUMNS
                              + ") VALUES ("
                              + "?, ".repeat(columns.length - 1)
                              + "?)")) {
                for (Record row : rows) {
                  if (Boolean.TRUE.equals(row.getField("_cdc_deleted"))) {
                    counts[1]++;
                    continue;
                  }
                  for (int i = 0; i < columns.length; i++) {
                    Object value = row.getField(columns[i]);
                    insert.setObject(
                        i + 1,
                        value instanceof LocalDateTime local
                            ? local.atOffset(ZoneOffset.UTC)
                            : value instanceof CharSequence text ? text.toString() : value);
                  }
                  insert.executeUpdate();
                  counts[0]++;
                }
              } catch (SQLException e) {
                throw new IOException(e);
              }
              return null;
            });
    return counts;
  }

  /**
   * cdc-to-lake on the same captured workload: the keyed Iceberg table's live rows equal the source
   * by checksum, deletes are tombstones, and re-reading the whole topic under another group changes
   * nothing (a replayed old insert never brings a deleted row back); Flink {@code [local]} and the
   * session cluster each fill a table of their own with the same rows.
   */
  @Test
  @Order(2)
  void cdcToLakeLeavesTheIcebergTableEqualToTheSourceAndAReReadChangesNothing() throws Exception {
    String table = "cdc_" + suffix;
    assertOk(run(lakeArgs(topic, table, "cdc-lake-" + suffix, dir.resolve("lake-first"))));
    long[] first = lakeIntoPostgres(table, "cdc_lake_first_" + suffix);
    assertThat(rows("cdc_lake_first_" + suffix, false), equalTo(rows(source, false)));
    assertThat(first[0], is(SharedSandbox.count("SELECT count(*) FROM " + source)));
    assertThat(first[1], greaterThan(0L));
    assertBalanced(dir.resolve("lake-first/report.json"));

    assertOk(
        run(
            lakeArgs(
                topic,
                table,
                "cdc-lake-again-" + suffix,
                dir.resolve("lake-again"),
                "--startReadTime=2000-01-01T00:00:00Z")));
    long[] again = lakeIntoPostgres(table, "cdc_lake_again_" + suffix);
    assertThat(rows("cdc_lake_again_" + suffix, false), equalTo(rows(source, false)));
    assertThat(again[1], is(first[1]));
    assertBalanced(dir.resolve("lake-again/report.json"));

    // The same topic on Flink [local] and on the session cluster, each into a table of its own:
    // the same live rows and tombstones.
    Map<String, String[]> flinks = new LinkedHashMap<>();
    flinks.put("flink", new String[] {"--runner=FlinkRunner", "--flinkMaster=[local]"});
    flinks.put("cluster", SharedFlinkCluster.args());
    for (Map.Entry<String, String[]> flink : flinks.entrySet()) {
      String name = "cdc_" + flink.getKey() + "_" + suffix;
      Path out = dir.resolve("lake-" + flink.getKey());
      assertOk(
          run(
              lakeArgs(
                  topic,
                  name,
                  "cdc-lake-" + flink.getKey() + "-" + suffix,
                  out,
                  flink.getValue())));
      long[] onFlink = lakeIntoPostgres(name, "copy_" + name);
      assertThat(flink.getKey(), rows("copy_" + name, false), equalTo(rows(source, false)));
      assertThat(flink.getKey(), onFlink[1], is(first[1]));
      assertBalanced(out.resolve("report.json"));
    }
  }

  @Test
  @Order(1)
  void aBoundedRunLeavesTheReplicaEqualToTheSourceAndAReplayChangesNothing() throws Exception {
    // A table without the replica's bookkeeping columns is refused before anything is read.
    String plain = SharedSandbox.newTableLike("orders", "cdc_plain_" + suffix);
    assertThat(
        run(args(topic, plain, "cdc-plain-" + suffix, dir.resolve("plain"))), is(Launcher.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("_cdc_position"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + plain), is(0L));

    String table = replica("cdc_replica_" + suffix);
    assertOk(run(args(topic, table, "cdc-" + suffix, dir.resolve("first"))));
    assertThat(rows(table, true), equalTo(rows(source, false)));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + table + " WHERE NOT _cdc_deleted"),
        is(SharedSandbox.count("SELECT count(*) FROM " + source)));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + table + " WHERE _cdc_deleted"),
        greaterThan(0L));
    Path report = dir.resolve("first/report.json");
    JsonNode counters = counters(report);
    assertThat(
        counters.toString(),
        counters.path("read").asLong(),
        is((long) INITIAL_ROWS + OPERATIONS + deletes));
    assertThat(filteredBy(report).path("tombstone").asLong(-1), is((long) deletes));
    assertBalanced(dir.resolve("first/report.json"));

    // The whole topic again, under a new consumer group: nothing changes.
    String before = SharedSandbox.checksum(table, "order_id");
    assertOk(run(args(topic, table, "cdc-replay-" + suffix, dir.resolve("replay"))));
    assertThat(SharedSandbox.checksum(table, "order_id"), equalTo(before));
    assertBalanced(dir.resolve("replay/report.json"));
  }

  @Test
  @Order(2)
  void shuffledEventsWithBadOnesAmongThemConvergeToTheSameReplica() throws Exception {
    List<byte[]> events = capturedEvents();
    Collections.shuffle(events, new Random(7));
    String shuffled = SharedSandbox.newTopic("cdc-shuffled", 2);
    // An insert whose status is no symbol of the schema's enum: a value that does not fit.
    com.fasterxml.jackson.databind.node.ObjectNode unfitEvent = null;
    for (byte[] event : events) {
      JsonNode tree = event.length == 0 ? null : JSON.readTree(event);
      if (tree != null && tree.path("payload").path("after").isObject()) {
        unfitEvent = (com.fasterxml.jackson.databind.node.ObjectNode) tree;
        break;
      }
    }
    com.fasterxml.jackson.databind.node.ObjectNode payload =
        (com.fasterxml.jackson.databind.node.ObjectNode) unfitEvent.get("payload");
    payload.put("op", "c");
    ((com.fasterxml.jackson.databind.node.ObjectNode) payload.get("after")).put("status", "LOST");
    String unfit = JSON.writeValueAsString(unfitEvent);
    List<ProducerRecord<byte[], byte[]>> records = spread(shuffled, 2, events);
    records.add(new ProducerRecord<>(shuffled, 0, null, "{oops".getBytes(StandardCharsets.UTF_8)));
    records.add(new ProducerRecord<>(shuffled, 1, null, unfit.getBytes(StandardCharsets.UTF_8)));
    send(records);
    String table = replica("cdc_shuffled_" + suffix);
    Path out = dir.resolve("shuffled");
    assertOk(run(args(shuffled, table, "cdc-shuffled-" + suffix, out)));
    assertThat(rows(table, true), equalTo(rows(source, false)));
    Path report = out.resolve("report.json");
    JsonNode counters = counters(report);
    assertThat(filteredBy(report).path("tombstone").asLong(-1), is((long) deletes));
    assertThat(counters.get("dead_lettered").asLong(), is(2L));
    assertBalanced(out.resolve("report.json"));

    List<DeadLetter> dead = new ArrayList<>(LakeFiles.readDeadLetters(out.resolve("dlq")));
    dead.sort(Comparator.comparing(DeadLetter::getOrigin));
    int half = events.size() / 2;
    assertThat(
        dead.stream().map(d -> d.getOrigin() + " " + d.getReason()).toList(),
        equalTo(
            List.of(
                "kafka:" + shuffled + "/0@" + (events.size() - half) + " parse",
                "kafka:" + shuffled + "/1@" + half + " schema")));

    // cdc-to-lake on the same shuffled events, bad ones included, converges to the same rows.
    String lake = "cdc_shuffled_" + suffix;
    assertOk(
        run(lakeArgs(shuffled, lake, "cdc-lake-shuffled-" + suffix, dir.resolve("lake-shuffled"))));
    lakeIntoPostgres(lake, "cdc_lake_shuffled_" + suffix);
    assertThat(rows("cdc_lake_shuffled_" + suffix, false), equalTo(rows(source, false)));
    assertBalanced(dir.resolve("lake-shuffled/report.json"));
  }

  @Test
  @Order(4)
  void hardDeletesRemoveTheRowsAndAReplayBringsNoneBack() throws Exception {
    String table = replica("cdc_hard_" + suffix);
    String deletedKeys = table + "_deleted_keys";
    SharedSandbox.execute(
        "CREATE TABLE "
            + deletedKeys
            + " (order_id bigint PRIMARY KEY, _cdc_position bigint NOT NULL)");
    String[] streaming = args(topic, table, "cdc-hard-stream-" + suffix, dir.resolve("hard-x"));
    List<String> noBounded = new ArrayList<>(List.of(streaming));
    noBounded.remove("--bounded");
    noBounded.add("--deleteMode=hard");
    assertThat(run(noBounded.toArray(String[]::new)), is(Launcher.USAGE));

    assertOk(
        run(
            KafkaToJdbcArgs.with(
                args(topic, table, "cdc-hard-" + suffix, dir.resolve("hard")),
                "--deleteMode=hard")));
    assertThat(rows(table, false), equalTo(rows(source, false)));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + table + " WHERE _cdc_deleted"), is(0L));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + deletedKeys), greaterThan(0L));
    assertBalanced(dir.resolve("hard/report.json"));

    // Every event again, the old inserts of deleted keys among them, through prepared upserts.
    String before = SharedSandbox.checksum(table, "order_id");
    assertOk(
        run(
            KafkaToJdbcArgs.with(
                args(topic, table, "cdc-hard-replay-" + suffix, dir.resolve("hard-replay")),
                "--deleteMode=hard",
                "--writeMethod=insert")));
    assertThat(SharedSandbox.checksum(table, "order_id"), equalTo(before));
    assertBalanced(dir.resolve("hard-replay/report.json"));
  }

  @Test
  @Order(3)
  void streamingOnFlinkConvergesWhileTheWorkloadRuns(@TempDir Path work) throws Exception {
    String table = "cdc_stream_source_" + suffix;
    createSource(table);
    String streamPrefix = "cdcs" + suffix;
    String replica = replica("cdc_stream_replica_" + suffix);
    Process launcher = null;
    try (ConnectWorker capture =
        DebeziumCapture.start(
            work,
            SharedSandbox.bootstrapServers(),
            SharedSandbox.get().postgres(),
            DebeziumCapture.Settings.of(streamPrefix, table))) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  KafkaToJdbcArgs.of(
                      DebeziumCapture.topic(streamPrefix, table),
                      replica,
                      "--consumerGroup=" + streamPrefix,
                      "--deadLetter=file:" + work.resolve("dlq"),
                      "--runner=FlinkRunner",
                      "--flinkMaster=[local]",
                      "--checkpointingInterval=1000")));
      args.set(0, "cdc-to-jdbc");
      // The topic exists once the connector has written to it: an insert before the run starts.
      Random random = new Random(99);
      SharedSandbox.execute(insert(table, 1, 1, random));
      Map<Long, Long> versions = new TreeMap<>(Map.of(1L, 1L));
      String topicName = DebeziumCapture.topic(streamPrefix, table);
      StreamingOrders.await(() -> endOffsets(topicName) > 0, true);
      launcher = launch(args, work.resolve("launcher.log"));
      // While it runs: a first half, then (rows arriving) the second half of the workload.
      workload(table, 250, versions, random);
      assertThat(
          StreamingOrders.await(
              () -> SharedSandbox.count("SELECT count(*) FROM " + replica) > 0, true),
          is(true));
      workload(table, 250, versions, random);
      String expected = rows(table, false);
      Process running = launcher;
      boolean converged =
          Poll.until(
              Duration.ofMinutes(3),
              () -> !running.isAlive() || rows(replica, true).equals(expected));
      assertThat(
          "replica converged while streaming; launcher log:\n"
              + Files.readString(work.resolve("launcher.log")),
          converged && launcher.isAlive(),
          is(true));
      assertThat(rows(replica, true), equalTo(rows(table, false)));
    } finally {
      if (launcher != null) {
        launcher.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      SharedSandbox.execute("DROP TABLE IF EXISTS " + table);
    }
  }

  /**
   * A captured event given columns the contract lacks is a schema dead letter naming them, never
   * written without them; one missing a column with a default gets the default, as kafka-to-jdbc
   * does with a missing field; truncate and message events are counted filtered by name.
   */
  @Test
  @Order(5)
  void unknownColumnsAreDeadLetteredAndTruncatesAreCountedNotApplied() throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode captured = null;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of("bootstrap.servers", SharedSandbox.bootstrapServers()),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = partitions(consumer, topic);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (captured == null) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          JsonNode tree = r.value() == null ? null : JSON.readTree(r.value());
          if (captured == null && tree != null && tree.path("payload").path("after").isObject()) {
            captured = (com.fasterxml.jackson.databind.node.ObjectNode) tree;
          }
        }
      }
    }
    com.fasterxml.jackson.databind.node.ObjectNode extra = captured.deepCopy();
    com.fasterxml.jackson.databind.node.ObjectNode extraAfter =
        (com.fasterxml.jackson.databind.node.ObjectNode) extra.get("payload").get("after");
    extraAfter.put("order_id", 9_001L).put("discount", 5).put("region", "eu");
    com.fasterxml.jackson.databind.node.ObjectNode missing = captured.deepCopy();
    com.fasterxml.jackson.databind.node.ObjectNode missingAfter =
        (com.fasterxml.jackson.databind.node.ObjectNode) missing.get("payload").get("after");
    missingAfter.put("order_id", 9_002L).remove("channel");
    String truncate = "{\"op\":\"t\",\"before\":null,\"after\":null,\"source\":{\"lsn\":1}}";
    String message = "{\"op\":\"m\",\"source\":{\"lsn\":2},\"message\":{\"prefix\":\"x\"}}";
    String events = SharedSandbox.newTopic("cdc-columns", 1);
    SharedSandbox.produce(
        events,
        0,
        JSON.writeValueAsBytes(extra),
        JSON.writeValueAsBytes(missing),
        truncate.getBytes(StandardCharsets.UTF_8),
        message.getBytes(StandardCharsets.UTF_8));

    String table = replica("cdc_columns_" + suffix);
    Path out = dir.resolve("columns");
    assertOk(run(args(events, table, "cdc-columns-" + suffix, out)));
    Path report = out.resolve("report.json");
    assertThat(counters(report).get("written").asLong(), is(1L));
    assertThat(counters(report).get("dead_lettered").asLong(), is(1L));
    assertThat(filteredBy(report).path("truncate").asLong(), is(1L));
    assertThat(filteredBy(report).path("message").asLong(), is(1L));
    assertBalanced(report);
    assertThat(
        SharedSandbox.text("SELECT string_agg(order_id || ':' || channel, ',') FROM " + table),
        equalTo("9002:web"));
    List<DeadLetter> dead = LakeFiles.readDeadLetters(out.resolve("dlq"));
    assertThat(dead.size(), is(1));
    assertThat(dead.get(0).getReason(), equalTo("schema"));
    assertThat(dead.get(0).getOrigin(), equalTo("kafka:" + events + "/0@0"));
    assertThat(
        dead.get(0).getErrorMessage(), containsString("unknown columns 'discount', 'region'"));
  }

  private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
    return consumer.partitionsFor(topic).stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .toList();
  }

  /** The number of records on a topic (the sum of its partitions' end offsets). */
  private static long endOffsets(String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of("bootstrap.servers", SharedSandbox.bootstrapServers()),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = partitions(consumer, topic);
      return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }
}

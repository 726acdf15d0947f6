package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ways adversarial testing found to lose or destroy rows, each closed: a failed run must leave
 * its input to be read again, and a rerun must converge.
 */
@ExtendWith(SharedSandbox.class)
class LossPathsTest extends LauncherCalls {
  @TempDir Path dir;

  private String[] kafkaToJdbc(String topic, String table, String... extra) {
    List<String> args = new ArrayList<>();
    args.add("--deadLetter=file:" + dir.resolve("dlq"));
    args.add("--runReport=" + dir.resolve("report.json"));
    args.add("--bounded");
    args.addAll(Arrays.asList(extra));
    return KafkaToJdbcArgs.of(topic, table, args.toArray(String[]::new));
  }

  private long counter(String name) throws Exception {
    JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    return report.get("counters").get(name).asLong();
  }

  /**
   * A bounded run with a consumer group that fails after writing some batches must not have moved
   * the group's offsets: the rerun reads every record again and the table ends complete.
   */
  @Test
  void aFailedBoundedRunCommitsNoOffsetsSoTheRerunLoadsEveryRow() throws Exception {
    String topic = SharedSandbox.newTopic("loss-commit", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_loss_commit");
    byte[][] values = new byte[40][];
    for (int i = 0; i < values.length; i++) {
      values[i] = json(i + 1, 1, "1.00", "NEW");
    }
    SharedSandbox.produce(topic, 0, values);
    // The database refuses order 35 with an error that is neither transient nor the row's fault.
    SharedSandbox.execute(
        "CREATE OR REPLACE FUNCTION refuse_35() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + " IF NEW.order_id = 35 THEN RAISE EXCEPTION 'maintenance: writes paused'; END IF;"
            + " RETURN NEW; END $$");
    SharedSandbox.execute(
        "CREATE TRIGGER refuse_35 BEFORE INSERT OR UPDATE ON "
            + table
            + " FOR EACH ROW EXECUTE FUNCTION refuse_35()");

    int failed = run(kafkaToJdbc(topic, table, "--consumerGroup=loss-commit", "--batchSize=5"));
    assertThat(failed, is(Launcher.RUN_FAILED));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("maintenance: writes paused"));
    long landed = SharedSandbox.count("SELECT count(*) FROM " + table);
    assertThat("some batches landed before the failure", landed < 40, is(true));

    SharedSandbox.execute("DROP TRIGGER refuse_35 ON " + table);
    assertOk(run(kafkaToJdbc(topic, table, "--consumerGroup=loss-commit", "--batchSize=5")));
    assertThat(counter("read"), is(40L));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(40L));

    // Now the offsets stand at the end: a third run has nothing to read.
    assertOk(run(kafkaToJdbc(topic, table, "--consumerGroup=loss-commit")));
    assertThat(counter("read"), is(0L));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(DISTINCT version::text, ',') FROM "
                + table
                + " WHERE order_id <= 40"),
        equalTo("1"));
  }

  /** The order ids in dead letters' JSON payloads, sorted. */
  private static List<Long> deadLetterOrderIds(List<DeadLetter> dead) throws Exception {
    List<Long> ids = new ArrayList<>();
    for (DeadLetter d : dead) {
      ids.add(
          new ObjectMapper()
              .readTree(DeadLetterJson.bytes(d.getPayload()))
              .get("order_id")
              .asLong());
    }
    ids.sort(null);
    return ids;
  }

  private static void discardEvenOrders(String table) throws Exception {
    SharedSandbox.execute(
        "CREATE OR REPLACE FUNCTION discard_even() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + " IF NEW.order_id % 2 = 0 THEN RETURN NULL; END IF; RETURN NEW; END $$");
    SharedSandbox.execute(
        "CREATE TRIGGER discard_even BEFORE INSERT OR UPDATE ON "
            + table
            + " FOR EACH ROW EXECUTE FUNCTION discard_even()");
  }

  /**
   * A trigger that discards rows (BEFORE INSERT OR UPDATE returning NULL) makes the upsert change
   * nothing for them. They are sink dead letters that say the row was not applied, not stale
   * versions: a row is stale only when the table holds its key at an equal or newer version (here
   * orders 1 to 5, already there at version 9), whichever way the batches are written.
   */
  @ParameterizedTest
  @ValueSource(strings = {"copy", "insert"})
  void rowsATriggerDiscardsAreDeadLettersNotStaleVersions(String writeMethod) throws Exception {
    String topic = SharedSandbox.newTopic("discard-" + writeMethod, 2);
    String table = SharedSandbox.newTableLike("orders", "orders_discard_" + writeMethod);
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " (order_id, customer_id, amount, currency, status, created_at, updated_at, version)"
            + " SELECT g, 1, 1, 'EUR', 'NEW', now(), now(), 9 FROM generate_series(1, 5) g");
    discardEvenOrders(table);
    List<byte[]> even = new ArrayList<>();
    List<byte[]> odd = new ArrayList<>();
    for (int id = 1; id <= 50; id++) {
      (id % 2 == 0 ? even : odd).add(json(id, 1, "1.00", "NEW"));
    }
    SharedSandbox.produceMany(topic, 0, even);
    SharedSandbox.produceMany(topic, 1, odd);

    assertOk(run(kafkaToJdbc(topic, table, "--writeMethod=" + writeMethod, "--batchSize=7")));
    assertThat(counter("read"), is(50L));
    assertThat(counter("written"), is(22L));
    assertThat(counter("dead_lettered"), is(23L));
    assertThat(counter("filtered"), is(5L));
    JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    assertThat(report.get("filtered_by").get("stale_version").asLong(), is(5L));
    assertBalanced(dir.resolve("report.json"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(27L));

    List<DeadLetter> dead = LakeFiles.readDeadLetters(dir.resolve("dlq"));
    List<Long> expected = new ArrayList<>();
    for (long id = 6; id <= 50; id += 2) {
      expected.add(id);
    }
    assertThat(deadLetterOrderIds(dead), equalTo(expected));
    for (DeadLetter d : dead) {
      assertThat(d.getReason(), equalTo("sink"));
      assertThat(d.getErrorMessage(), containsString("not applied"));
      assertThat(d.getErrorMessage(), containsString(table));
    }
  }

  /**
   * A staged run (write-audit-publish) writes to a staging copy without the trigger; the merge into
   * the table loses the discarded rows, so it fails naming them and merges nothing, and the
   * consumer group does not move.
   */
  @Test
  void aStagedMergeThatLosesRowsToATriggerFailsAndMergesNothing() throws Exception {
    String topic = SharedSandbox.newTopic("discard-staged", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_discard_staged");
    discardEvenOrders(table);
    byte[][] values = new byte[10][];
    for (int i = 0; i < values.length; i++) {
      values[i] = json(i + 1, 1, "1.00", "NEW");
    }
    SharedSandbox.produce(topic, 0, values);
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: row_count, min: 1, severity: error}\n");

    int exit = run(kafkaToJdbc(topic, table, "--rules=" + rules, "--consumerGroup=discard-staged"));
    assertThat(exit, is(Launcher.RUN_FAILED));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("5 staged row(s) were not applied to " + table));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(0L));
    assertThat(SharedSandbox.committedOffsets(topic, "discard-staged").isEmpty(), is(true));
  }

  private static final String ORDERS_HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note";

  private static String csvOrder(int id) {
    return id + ",1,1.00,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,";
  }

  /**
   * Files that used to vanish: CR-only line endings (one physical line), gzip named {@code .csv},
   * and a file of binary bytes without any line break. Each record is now loaded, and each byte
   * that is no record is in a dead letter; nothing counts as an empty file.
   */
  @Test
  void noFileVanishesWhateverItsLineEndingsCompressionOrBytes() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        in.resolve("cr-only.csv"), ORDERS_HEADER + "\r" + csvOrder(1) + "\r" + csvOrder(2) + "\r");
    ByteArrayOutputStream gzip = new ByteArrayOutputStream();
    try (GZIPOutputStream zip = new GZIPOutputStream(gzip)) {
      zip.write(
          (ORDERS_HEADER + "\n" + csvOrder(3) + "\n" + csvOrder(4) + "\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    Files.write(in.resolve("gzip-named.csv"), gzip.toByteArray());
    byte[] binary = {(byte) 0x89, 'P', 'N', 'G', 0x1A, 0x00, (byte) 0xFF};
    Files.write(in.resolve("binary.csv"), binary);

    assertOk(
        run(
            "files-to-lake",
            "--input=" + in + "/*.csv",
            "--format=csv",
            "--schema=Order",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--runReport=" + dir.resolve("report.json")));

    assertThat(counter("read"), is(5L));
    assertThat(counter("written"), is(4L));
    assertThat(counter("dead_lettered"), is(1L));
    List<Long> ids = new ArrayList<>();
    LakeFiles.readAvro(dir.resolve("lake"), Order.class)
        .values()
        .forEach(orders -> orders.forEach(o -> ids.add(o.getOrderId())));
    ids.sort(null);
    assertThat(ids, equalTo(List.of(1L, 2L, 3L, 4L)));
    List<DeadLetter> dead = LakeFiles.readDeadLetters(dir.resolve("dlq"));
    assertThat(dead.size(), is(1));
    assertThat(dead.get(0).getOrigin(), equalTo("file:" + in.resolve("binary.csv") + "#1"));
    assertThat(dead.get(0).getReason(), equalTo("decode"));
    assertThat(DeadLetterJson.bytes(dead.get(0).getPayload()), equalTo(binary));
  }

  private List<Long> lakeOrderIds(Path lake) {
    List<Long> ids = new ArrayList<>();
    LakeFiles.readAvro(lake, Order.class)
        .values()
        .forEach(orders -> orders.forEach(o -> ids.add(o.getOrderId())));
    ids.sort(null);
    return ids;
  }

  private int filesToLake(Path input, Path lake) {
    return run(
        "files-to-lake",
        "--input=" + input,
        "--format=csv",
        "--schema=Order",
        "--output=" + lake,
        "--deadLetter=file:" + lake.resolve("_dlq"),
        "--runReport=" + dir.resolve("report.json"));
  }

  /**
   * Two inputs with the same dates loaded one after the other into one lake: both stay, each with
   * its dead letters; loading the first again replaces its own files only.
   */
  @Test
  void loadingAnotherInputIntoALakeKeepsWhatEarlierInputsWrote() throws Exception {
    Path in = Files.createDirectories(dir.resolve("days"));
    Path day1 =
        Files.writeString(
            in.resolve("day1.csv"),
            ORDERS_HEADER + "\n" + csvOrder(1) + "\n" + csvOrder(2) + "\nbad line\n");
    Path day2 =
        Files.writeString(
            in.resolve("day2.csv"), ORDERS_HEADER + "\n" + csvOrder(3) + "\nworse line\n");
    Path lake = dir.resolve("lake");

    assertOk(filesToLake(day1, lake));
    assertOk(filesToLake(day2, lake));
    assertThat(lakeOrderIds(lake), equalTo(List.of(1L, 2L, 3L)));
    assertThat(
        LakeFiles.readDeadLetters(lake.resolve("_dlq")).stream()
            .map(d -> d.getOrigin().substring(d.getOrigin().lastIndexOf('/') + 1))
            .sorted()
            .toList(),
        equalTo(List.of("day1.csv#4", "day2.csv#3")));
    JsonNode success = new ObjectMapper().readTree(lake.resolve("_SUCCESS").toFile());
    assertThat(success.get("files").size(), is(2));

    // day1 corrected and loaded again: its own rows are replaced, day2's stay.
    Files.writeString(day1, ORDERS_HEADER + "\n" + csvOrder(5) + "\n");
    assertOk(filesToLake(day1, lake));
    assertThat(lakeOrderIds(lake), equalTo(List.of(3L, 5L)));
    assertThat(
        LakeFiles.readDeadLetters(lake.resolve("_dlq")).stream()
            .map(d -> d.getOrigin().substring(d.getOrigin().lastIndexOf('/') + 1))
            .toList(),
        equalTo(List.of("day2.csv#3")));
  }

  /** A second export into the same lake leaves the first export's files where they are. */
  @Test
  void aSecondExportIntoTheSameLakeKeepsTheFirst() throws Exception {
    for (String table : List.of("lake_share_a", "lake_share_b")) {
      SharedSandbox.execute("DROP TABLE IF EXISTS " + table);
      SharedSandbox.execute(
          "CREATE TABLE " + table + " (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL)");
    }
    SharedSandbox.execute(
        "INSERT INTO lake_share_a VALUES (1, '2026-11-25T00:00:00Z'), (2, '2026-11-25T01:00:00Z')");
    SharedSandbox.execute("INSERT INTO lake_share_b VALUES (10, '2026-11-25T02:00:00Z')");
    SharedSandbox.execute(
        "DELETE FROM sluice_export_state WHERE export_name IN ('share-a', 'share-b')");
    Path lake = dir.resolve("shared-lake");

    assertOk(run(jdbcToLakeArgs("lake_share_a", "share-a", lake)));
    assertOk(run(jdbcToLakeArgs("lake_share_b", "share-b", lake)));
    List<Long> ids = new ArrayList<>();
    for (Path file : LakePublisher.dataFiles(lake)) {
      try (org.apache.avro.file.DataFileReader<org.apache.avro.generic.GenericRecord> reader =
          new org.apache.avro.file.DataFileReader<>(
              file.toFile(), new org.apache.avro.generic.GenericDatumReader<>())) {
        reader.forEach(r -> ids.add((Long) r.get("id")));
      }
    }
    ids.sort(null);
    assertThat(ids, equalTo(List.of(1L, 2L, 10L)));

    // A full refresh of the first export replaces its own files only.
    assertOk(run(jdbcToLakeArgs("lake_share_a", "share-a", lake, "--fullRefresh")));
    assertThat(LakePublisher.dataFiles(lake).size(), is(2));
  }

  private String[] jdbcToLakeArgs(String table, String export, Path lake, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "jdbc-to-lake",
                "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--jdbcUser=postgres",
                "--table=" + table,
                "--exportName=" + export,
                "--watermarkColumn=updated_at",
                "--output=" + lake,
                "--deadLetter=file:" + lake.resolve("_dlq")));
    args.addAll(Arrays.asList(extra));
    return args.toArray(String[]::new);
  }

  /**
   * Two bounded runs of one consumer group, each with a malformed record: the second run's dead
   * letters do not overwrite the first's; a rerun from the same offsets replaces its own.
   */
  @Test
  void aLaterKafkaRunKeepsTheDeadLettersOfEarlierRuns() throws Exception {
    String topic = SharedSandbox.newTopic("loss-dlq", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_loss_dlq");
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), Orders.utf8("first bad"));
    assertOk(run(kafkaToJdbc(topic, table, "--consumerGroup=loss-dlq")));
    SharedSandbox.produce(topic, 0, json(2, 1, "2.00", "NEW"), Orders.utf8("second bad"));
    assertOk(run(kafkaToJdbc(topic, table, "--consumerGroup=loss-dlq")));
    assertThat(
        LakeFiles.readDeadLetters(dir.resolve("dlq")).stream()
            .map(d -> d.getOrigin())
            .sorted()
            .toList(),
        equalTo(List.of("kafka:" + topic + "/0@1", "kafka:" + topic + "/0@3")));
    // Without the group, a run reads from the beginning, as the group's first run did: its file
    // replaces that run's (a superset of it), and running it again replaces its own.
    assertOk(run(kafkaToJdbc(topic, table)));
    assertOk(run(kafkaToJdbc(topic, table)));
    assertThat(
        LakeFiles.readDeadLetters(dir.resolve("dlq")).stream()
            .map(d -> d.getOrigin())
            .sorted()
            .toList(),
        equalTo(
            List.of(
                "kafka:" + topic + "/0@1", "kafka:" + topic + "/0@3", "kafka:" + topic + "/0@3")));
  }

  /**
   * A record whose bytes hold U+0000 (which PostgreSQL text refuses) is stored in a JDBC
   * dead-letter table like any other: the preview escapes it, the payload keeps the exact bytes.
   */
  @Test
  void theJdbcDeadLetterSinkStoresARecordWithANulByte() throws Exception {
    String topic = SharedSandbox.newTopic("loss-nul", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_loss_nul");
    String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_loss_nul");
    byte[] nul = "{\"order_id\":1,\"note\":\"a\u0000b\"}".getBytes(StandardCharsets.UTF_8);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), nul);

    assertOk(
        run(
            kafkaToJdbc(
                topic,
                table,
                "--deadLetter=jdbc:" + dlq,
                "--deadLetterJdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--deadLetterJdbcUser=postgres")));

    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
    assertThat(
        SharedSandbox.text("SELECT payload_preview FROM " + dlq),
        equalTo("{\"order_id\":1,\"note\":\"a\\u0000b\"}"));
    assertThat(
        SharedSandbox.text("SELECT encode(payload, 'hex') FROM " + dlq),
        equalTo(HexFormat.of().formatHex(nul)));
  }

  /**
   * What used to fail only after the rows were processed now fails before anything is read, with a
   * message naming the option: an output or dead-letter directory that is a file, a dead-letter
   * topic or table that does not exist, a table whose only unique index ON CONFLICT cannot use.
   */
  @Test
  void destinationsThatCannotTakeTheRowsFailAtStartup() throws Exception {
    String topic = SharedSandbox.newTopic("loss-startup", 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"));
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    String table = SharedSandbox.newTableLike("orders", "orders_loss_startup");

    assertThat(run(kafkaToJdbc(topic, table, "--deadLetter=file:" + file)), is(Launcher.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("is a file, not a directory"));
    err.reset();
    assertThat(
        run(kafkaToJdbc(topic, table, "--deadLetter=kafka:no-such-dead-letter-topic")),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("topic no-such-dead-letter-topic does not exist"));
    err.reset();
    assertThat(
        run(
            kafkaToJdbc(
                topic,
                table,
                "--deadLetter=jdbc:no_such_dead_letters",
                "--deadLetterJdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--deadLetterJdbcUser=postgres")),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("table no_such_dead_letters does not exist"));
    err.reset();
    Path csv = Files.writeString(dir.resolve("in.csv"), ORDERS_HEADER + "\n");
    assertThat(
        run(
            "files-to-lake",
            "--input=" + csv,
            "--output=" + file,
            "--deadLetter=file:" + dir.resolve("dlq")),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8), containsString("--output=" + file + " is a file"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(0L));

    // A unique index that is partial cannot be the upsert's arbiter: refused at startup.
    SharedSandbox.execute("DROP TABLE IF EXISTS orders_partial_key");
    SharedSandbox.execute("CREATE TABLE orders_partial_key (LIKE orders INCLUDING DEFAULTS)");
    SharedSandbox.execute(
        "CREATE UNIQUE INDEX orders_partial_key_id ON orders_partial_key (order_id)"
            + " WHERE version > 0");
    err.reset();
    assertThat(
        run(kafkaToJdbc(topic, "orders_partial_key", "--keyFields=order_id")), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("the unique index on (order_id) is partial"));
    // Without --keyFields the key is the table's primary key, and this table has none.
    err.reset();
    assertThat(run(kafkaToJdbc(topic, "orders_partial_key")), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "table orders_partial_key has no primary key (or does not exist): give --keyFields"));
  }
}

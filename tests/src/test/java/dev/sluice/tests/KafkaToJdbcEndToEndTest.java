package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** kafka-to-jdbc bounded, end to end on the real broker and the real PostgreSQL. */
@ExtendWith(SharedSandbox.class)
class KafkaToJdbcEndToEndTest extends LauncherCalls {
  @TempDir Path dir;

  private String[] args(String topic, String table, String... extra) {
    List<String> args = new ArrayList<>();
    args.add("kafka-to-jdbc");
    args.add("--bootstrapServers=" + SharedSandbox.bootstrapServers());
    args.add("--topic=" + topic);
    args.add("--format=json");
    args.add("--schema=Order");
    args.add("--jdbcUrl=" + SharedSandbox.jdbcUrl());
    args.add("--jdbcUser=postgres");
    args.add("--table=" + table);
    if (Arrays.stream(extra).noneMatch(e -> e.startsWith("--keyFields="))) {
      args.add("--keyFields=order_id");
    }
    args.add("--versionField=version");
    args.add("--deadLetter=file:" + dir.resolve("dlq"));
    args.add("--runReport=" + dir.resolve("report.json"));
    args.add("--bounded");
    args.addAll(Arrays.asList(extra));
    return args.toArray(String[]::new);
  }

  private static Map<Long, String> rows(String table) throws Exception {
    Map<Long, String> rows = new TreeMap<>();
    String all =
        SharedSandbox.text(
            "SELECT string_agg(order_id || '=' || version || ':' || status || ':' || amount || ':'"
                + " || currency, ';' ORDER BY order_id) FROM "
                + table);
    if (all != null) {
      for (String row : all.split(";")) {
        rows.put(
            Long.parseLong(row.substring(0, row.indexOf('='))),
            row.substring(row.indexOf('=') + 1));
      }
    }
    return rows;
  }

  private JsonNode report() throws Exception {
    return new ObjectMapper().readTree(dir.resolve("report.json").toFile());
  }

  private void assertAccounted(long read, long written, long dead, long filtered) throws Exception {
    JsonNode counters = report().get("counters");
    assertThat(counters.get("read").asLong(), is(read));
    assertThat(counters.get("written").asLong(), is(written));
    assertThat(counters.get("dead_lettered").asLong(), is(dead));
    assertThat(counters.get("filtered").asLong(), is(filtered));
    assertThat(read, is(written + dead + filtered));
    assertThat(report().get("accounting").get("balanced").asBoolean(), is(true));
  }

  @Test
  void happyPathGivesTheExactTableContents() throws Exception {
    String topic = SharedSandbox.newTopic("happy", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_happy");
    SharedSandbox.produce(topic, 0, json(1, 1, "10.50", "NEW"), json(2, 1, "20.00", "PAID"));
    SharedSandbox.produce(topic, 1, json(3, 1, "0.01", "SHIPPED"));

    assertOk(run(args(topic, table)));

    assertThat(
        rows(table),
        equalTo(Map.of(1L, "1:NEW:10.50:EUR", 2L, "1:PAID:20.00:EUR", 3L, "1:SHIPPED:0.01:EUR")));
    assertThat(
        SharedSandbox.text(
            "SELECT created_at::text || ' ' || customer_id FROM " + table + " WHERE order_id = 1"),
        equalTo("2026-11-25 10:00:00+00 101"));
    assertAccounted(3, 3, 0, 0);
    assertThat(report().get("lineage").get("sources").toString(), containsString("kafka:"));
  }

  /**
   * Whole batches, written each way: the sink writes 40 rows in batches (5 of them older than the
   * table's rows) and must still count each row written or filtered; text with quotes, commas and
   * an empty string survives as written.
   */
  @ParameterizedTest
  @ValueSource(strings = {"copy", "insert"})
  void aWholeBatchIsCountedRowByRow(String method) throws Exception {
    String topic = SharedSandbox.newTopic("batch-" + method, 1);
    String table = SharedSandbox.newTableLike("orders", "orders_batch_" + method);
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " (order_id, customer_id, amount, currency, status, created_at, updated_at, version)"
            + " SELECT g, 1, 1.00, 'EUR', 'NEW', now(), now(), 9 FROM generate_series(1, 5) g");
    byte[][] values = new byte[40][];
    for (int i = 0; i < 40; i++) {
      values[i] = json(i + 1, 2, "2.00", "PAID");
    }
    String note =
        "{\"order_id\":41,\"customer_id\":1,\"amount\":0.10,\"currency\":\"EUR\","
            + "\"status\":\"NEW\",\"created_at\":\"2026-11-25T10:00:00Z\","
            + "\"updated_at\":\"2026-11-25T10:00:00.123Z\",\"version\":1,\"note\":";
    values[38] = utf8(note + "\"say \\\"hi\\\", then, \\\\ bye\"}");
    values[39] = utf8(note.replace(":41,", ":42,") + "\"\"}");
    SharedSandbox.produce(topic, 0, values);
    assertOk(run(args(topic, table, "--batchSize=100", "--writeMethod=" + method)));
    assertAccounted(40, 35, 0, 5);
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + table + " WHERE version = 2"), is(33L));
    assertThat(
        SharedSandbox.text("SELECT note FROM " + table + " WHERE order_id = 41"),
        equalTo("say \"hi\", then, \\ bye"));
    assertThat(
        SharedSandbox.text("SELECT note FROM " + table + " WHERE order_id = 42"), equalTo(""));
    assertThat(
        SharedSandbox.text("SELECT note IS NULL FROM " + table + " WHERE order_id = 1"),
        equalTo("t"));
    assertThat(
        SharedSandbox.text("SELECT updated_at::text FROM " + table + " WHERE order_id = 42"),
        equalTo("2026-11-25 10:00:00.123+00"));
  }

  @Test
  void malformedRecordsLandInTheDeadLettersWithTheirOffsets() throws Exception {
    String topic = SharedSandbox.newTopic("malformed", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_malformed");
    byte[] badJson = utf8("{\"order_id\": 2,");
    byte[] badUtf8 = {'{', (byte) 0xFF, '}'};
    byte[] badEnum = json(4, 1, "1.00", "LOST");
    SharedSandbox.produce(
        topic, 0, json(1, 1, "1.00", "NEW"), badJson, badUtf8, badEnum, json(5, 1, "5.00", "NEW"));

    assertOk(run(args(topic, table)));

    assertThat(rows(table).keySet(), equalTo(Set.of(1L, 5L)));
    List<DeadLetter> dead = new ArrayList<>(LakeFiles.readDeadLetters(dir.resolve("dlq")));
    dead.sort(Comparator.comparing(DeadLetter::getOrigin));
    assertThat(
        dead.stream().map(d -> d.getOrigin() + " " + d.getReason() + " " + d.getStep()).toList(),
        equalTo(
            List.of(
                "kafka:" + topic + "/0@1 parse Parse",
                "kafka:" + topic + "/0@2 decode Parse",
                "kafka:" + topic + "/0@3 schema Parse")));
    assertThat(DeadLetterJson.bytes(dead.get(0).getPayload()), equalTo(badJson));
    assertThat(DeadLetterJson.bytes(dead.get(1).getPayload()), equalTo(badUtf8));
    assertThat(DeadLetterJson.bytes(dead.get(2).getPayload()), equalTo(badEnum));
    assertThat(dead.get(2).getSourceTimestamp() != null, is(true));
    assertAccounted(5, 2, 3, 0);
  }

  @Test
  void duplicatesAndOutOfOrderVersionsLeaveTheNewestAndReplayChangesNothing() throws Exception {
    String topic = SharedSandbox.newTopic("versions", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_versions");
    // order 1: v3 arrives before v2 (another partition), and v3 twice; order 2: v1 then v2.
    SharedSandbox.produce(
        topic,
        0,
        json(1, 3, "30.00", "SHIPPED"),
        json(1, 3, "30.00", "SHIPPED"),
        json(2, 1, "1.00", "NEW"));
    SharedSandbox.produce(topic, 1, json(1, 2, "20.00", "PAID"), json(2, 2, "2.00", "PAID"));

    assertOk(run(args(topic, table, "--consumerGroup=versions")));
    Map<Long, String> expected = Map.of(1L, "3:SHIPPED:30.00:EUR", 2L, "2:PAID:2.00:EUR");
    assertThat(rows(table), equalTo(expected));
    // Which older versions a batch drops itself (superseded) and which the table's guard keeps out
    // (stale_version) depends on how records fall into batches; that every one is counted does not.
    assertBalanced(5, 0);
    String checksum = SharedSandbox.checksum(table, "order_id");

    // A later, older version arrives on its own: the version guard keeps the newer row.
    SharedSandbox.produce(topic, 1, json(1, 1, "10.00", "NEW"));
    assertOk(run(args(topic, table, "--consumerGroup=versions")));
    assertThat(rows(table), equalTo(expected));
    assertThat(report().get("filtered_by").toString(), containsString("\"stale_version\":1"));

    // Replaying the whole topic leaves the table unchanged.
    assertOk(run(args(topic, table)));
    assertThat(SharedSandbox.checksum(table, "order_id"), equalTo(checksum));
    assertBalanced(6, 0);
  }

  /** Read and dead-lettered as given; written and filtered (by version) adding up to the rest. */
  private void assertBalanced(long read, long dead) throws Exception {
    JsonNode counters = report().get("counters");
    assertThat(counters.get("read").asLong(), is(read));
    assertThat(counters.get("dead_lettered").asLong(), is(dead));
    assertThat(
        counters.get("written").asLong() + counters.get("filtered").asLong(), is(read - dead));
    report()
        .get("filtered_by")
        .fieldNames()
        .forEachRemaining(
            reason -> assertThat(reason, Set.of("superseded", "stale_version").contains(reason)));
    assertThat(report().get("accounting").get("balanced").asBoolean(), is(true));
  }

  /**
   * Two events of one key with the same version but different content converge to one row,
   * whichever arrives first and whether they share a batch or not: equal versions are decided by a
   * hash of the row, never by arrival order.
   */
  @Test
  void equalVersionsConvergeToOneRowWhateverTheOrderAndTheBatches() throws Exception {
    byte[] paid = json(7, 5, "70.00", "PAID");
    byte[] shipped = json(7, 5, "71.00", "SHIPPED");
    List<String> checksums = new ArrayList<>();
    int run = 0;
    for (byte[][] order : List.of(new byte[][] {paid, shipped}, new byte[][] {shipped, paid})) {
      for (String batchSize : List.of("1", "1000")) {
        String topic = SharedSandbox.newTopic("tie", 1);
        String table = SharedSandbox.newTableLike("orders", "orders_tie_" + run++);
        SharedSandbox.produce(topic, 0, order);
        assertOk(run(args(topic, table, "--batchSize=" + batchSize)));
        assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
        checksums.add(
            SharedSandbox.text("SELECT status || ':' || amount || ':' || version FROM " + table));
      }
    }
    assertThat(checksums.stream().distinct().count() + " " + checksums, startsWithOne());
  }

  private static org.hamcrest.Matcher<String> startsWithOne() {
    return org.hamcrest.Matchers.startsWith("1 ");
  }

  @Test
  void consumerGroupResumesFromItsCommittedOffsets() throws Exception {
    String topic = SharedSandbox.newTopic("group", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_group");
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    assertOk(run(args(topic, table, "--consumerGroup=g1")));
    assertAccounted(2, 2, 0, 0);
    SharedSandbox.produce(topic, 0, json(3, 1, "3.00", "NEW"));
    assertOk(run(args(topic, table, "--consumerGroup=g1")));
    assertAccounted(1, 1, 0, 0);
    assertThat(rows(table).keySet(), equalTo(Set.of(1L, 2L, 3L)));
  }

  @Test
  void rowsTheDatabaseRejectsAreDeadLetteredWhileTheRestOfTheBatchLands() throws Exception {
    String topic = SharedSandbox.newTopic("rejects", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_rejects");
    byte[] tooLong = json(2, 1, "2.00", "EURO", "NEW");
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), tooLong, json(3, 1, "3.00", "NEW"));

    assertOk(run(args(topic, table)));

    assertThat(rows(table).keySet(), equalTo(Set.of(1L, 3L)));
    List<DeadLetter> dead = LakeFiles.readDeadLetters(dir.resolve("dlq"));
    assertThat(dead.size(), is(1));
    DeadLetter d = dead.get(0);
    assertThat(d.getOrigin(), equalTo("kafka:" + topic + "/0@1"));
    assertThat(d.getReason(), equalTo("sink"));
    assertThat(d.getStep(), equalTo("Upsert"));
    assertThat(d.getErrorMessage(), containsString("22001"));
    assertThat(d.getErrorMessage(), containsString("value too long for type character varying(3)"));
    assertThat(DeadLetterJson.bytes(d.getPayload()), equalTo(tooLong));
    assertAccounted(3, 2, 1, 0);
  }

  @Test
  void aTableThatDoesNotFitTheSchemaFailsBeforeReadingListingEachDifference() throws Exception {
    String topic = SharedSandbox.newTopic("mismatch", 1);
    SharedSandbox.execute("DROP TABLE IF EXISTS orders_mismatch");
    SharedSandbox.execute(
        "CREATE TABLE orders_mismatch (order_id bigint PRIMARY KEY, customer_id integer NOT NULL,"
            + " amount numeric(8,2) NOT NULL, currency text NOT NULL, status text NOT NULL,"
            + " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, version bigint NOT NULL,"
            + " note text NOT NULL, region text NOT NULL)");
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"));

    assertThat(run(args(topic, "orders_mismatch")), is(Launcher.USAGE));
    String message = err.toString(StandardCharsets.UTF_8);
    assertThat(message, containsString("Table orders_mismatch does not fit schema Order"));
    assertThat(
        message,
        containsString(
            "column customer_id is integer but field customer_id needs bigint or numeric"));
    assertThat(
        message,
        containsString(
            "column amount is numeric(8,2) but field amount needs numeric(12,2) or wider"));
    assertThat(message, containsString("column note is NOT NULL but field note is optional"));
    assertThat(
        message, containsString("column region is NOT NULL without default but no field fills it"));
    assertThat(Files.exists(dir.resolve("report.json")), is(false));

    assertThat(run(args(topic, "no_such_table")), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8), containsString("table no_such_table does not exist"));
  }

  @Test
  void aTableNameCarryingSqlIsRejected() throws Exception {
    String topic = SharedSandbox.newTopic("injection", 1);
    assertThat(run(args(topic, "orders; DROP TABLE orders")), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--table 'orders; DROP TABLE orders' is not a valid SQL identifier"));
    assertThat(
        SharedSandbox.count(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders'"),
        is(1L));
    assertThat(run(args(topic, "orders", "--keyFields=order_id\" OR 1=1")), is(Launcher.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("--keyFields"));
  }

  @Test
  void thePasswordNeverShowsInLogsOrTheReport() throws Exception {
    String canary = "s3cr3t-" + UUID.randomUUID();
    Path secretFile = Files.writeString(dir.resolve("pg-password"), canary + "\n");
    String topic = SharedSandbox.newTopic("secret", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_secret");
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), utf8("not json"));

    PrintStream realOut = System.out;
    PrintStream realErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
    int ok;
    int literal;
    try {
      System.setOut(capture);
      System.setErr(capture);
      ok = run(args(topic, table, "--jdbcPassword=file:" + secretFile));
      literal = run(args(topic, table, "--jdbcPassword=" + canary));
    } finally {
      System.setOut(realOut);
      System.setErr(realErr);
    }
    assertOk(ok);
    assertThat(literal, is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--jdbcPassword must be a reference, env:NAME or file:PATH"));
    String everything =
        captured.toString(StandardCharsets.UTF_8)
            + out.toString(StandardCharsets.UTF_8)
            + err.toString(StandardCharsets.UTF_8)
            + Files.readString(dir.resolve("report.json"))
            + String.join(
                "\n",
                LakeFiles.files(dir.resolve("dlq"), ".jsonl").stream()
                    .map(
                        p -> {
                          try {
                            return Files.readString(p);
                          } catch (IOException e) {
                            throw new UncheckedIOException(e);
                          }
                        })
                    .toList());
    assertThat(everything, containsString("Run summary: kafka-to-jdbc DONE"));
    assertThat(everything, not(containsString(canary)));
  }

  @Test
  void stopReadTimeEndsABoundedReadBeforeTheFirstLaterRecord() throws Exception {
    String topic = SharedSandbox.newTopic("stoptime", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_stoptime");
    long t = Instant.parse("2026-11-25T00:00:00Z").toEpochMilli();
    SharedSandbox.produceAt(topic, 0, t - 1_000, json(1, 1, "1.00", "NEW"));
    SharedSandbox.produceAt(topic, 0, t, json(2, 1, "2.00", "NEW"));
    SharedSandbox.produceAt(topic, 0, t + 1_000, json(3, 1, "3.00", "NEW"));
    assertOk(run(args(topic, table, "--stopReadTime=2026-11-25T00:00:00Z")));
    assertThat(rows(table).keySet(), equalTo(Set.of(1L)));
    assertAccounted(1, 1, 0, 0);
    assertThat(run(args(topic, table, "--stopReadTime=yesterday")), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--stopReadTime must be an ISO-8601 time"));
  }

  /**
   * A backfill reads a past window again: with nothing missing it changes nothing; rows deleted
   * from the table come back; a newer version written later is never replaced by the window's older
   * one; and the consumer group's offsets are not touched (without --consumerGroup) or only ever
   * move forward (with it).
   */
  @Test
  void aBackfillOfAPastWindowRepairsWhatIsMissingAndChangesNothingElse() throws Exception {
    String topic = SharedSandbox.newTopic("backfill", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_backfill");
    long day1 = Instant.parse("2026-11-20T00:00:00Z").toEpochMilli();
    long day2 = day1 + 86_400_000L;
    long day3 = day2 + 86_400_000L;
    for (int id = 1; id <= 8; id++) {
      long at = (id <= 4 ? day1 : day2) + id * 1_000L;
      SharedSandbox.produceAt(topic, id % 2, at, json(id, 1, id + ".00", "NEW"));
    }
    SharedSandbox.produceAt(topic, 1, day3 + 1_000L, json(5, 2, "50.00", "PAID"));
    assertOk(run(args(topic, table, "--consumerGroup=loader")));
    Map<Long, String> loaded = rows(table);
    Map<Integer, Long> committed = SharedSandbox.committedOffsets(topic, "loader");
    assertThat(loaded.get(5L), equalTo("2:PAID:50.00:EUR"));
    assertThat(committed, equalTo(Map.of(0, 4L, 1, 5L)));

    String[] window = {
      "--startReadTime=2026-11-21T00:00:00Z", "--stopReadTime=2026-11-22T00:00:00Z"
    };
    assertOk(run(args(topic, table, window)));
    assertThat(rows(table), equalTo(loaded));
    assertAccounted(4, 3, 0, 1); // order 5's version 1 is older than the table's: stale

    SharedSandbox.execute("DELETE FROM " + table + " WHERE order_id IN (6, 7)");
    assertOk(run(args(topic, table, window)));
    assertThat(rows(table), equalTo(loaded));
    assertThat(SharedSandbox.committedOffsets(topic, "loader"), equalTo(committed));

    assertOk(run(args(topic, table, window[0], window[1], "--consumerGroup=loader")));
    assertThat(rows(table), equalTo(loaded));
    assertThat(SharedSandbox.committedOffsets(topic, "loader"), equalTo(committed));

    assertThat(
        run(args(topic, table, "--startReadTime=2026-11-22T00:00:00Z", window[1])),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--startReadTime must be before --stopReadTime"));
  }
}

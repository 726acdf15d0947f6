package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice replay}: dead letters fed through their pipeline again after a fix, with the
 * accounting of the replay, the next attempt for what fails again, and a mark so that a second
 * replay lands nothing twice.
 */
@ExtendWith(SharedSandbox.class)
class ReplayEndToEndTest extends LauncherCalls {
  private static final byte[] BAD_JSON = utf8("{\"order_id\":");
  private static final byte[] TOO_LONG = json(4, 1, "1.00", "EURO", "NEW");

  @TempDir Path dir;

  /** The next version of Order, as a schema change would add it: one more status, REFUNDED. */
  private Path orderV3(String symbols) throws Exception {
    String v2 = Order.getClassSchema().toString(true);
    String v3 =
        v2.replace("\"sluice.version\" : 2", "\"sluice.version\" : 3")
            .replace("[ \"NEW\", \"PAID\", \"SHIPPED\", \"CANCELLED\" ]", symbols);
    assertThat(v3.contains("REFUNDED") || !symbols.contains("REFUNDED"), is(true));
    return Files.writeString(dir.resolve("order-v3-" + symbols.hashCode() + ".avsc"), v3);
  }

  private List<String> kafkaToJdbc(String topic, String table, String deadLetter) {
    return List.of(
        "--pipeline=kafka-to-jdbc",
        "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
        "--topic=" + topic,
        "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
        "--jdbcUser=postgres",
        "--table=" + table,
        "--deadLetter=" + deadLetter);
  }

  private int replay(List<String> own, List<String> pipeline, String... more) {
    List<String> args = new ArrayList<>(List.of("replay"));
    args.addAll(own);
    args.addAll(pipeline);
    args.addAll(List.of(more));
    out.reset();
    err.reset();
    return run(args.toArray(String[]::new));
  }

  @Test
  void kafkaToPostgresEventsWithANewEnumSymbolLandAfterTheSchemaChangeAndOnlyOnce()
      throws Exception {
    String topic = SharedSandbox.newTopic("replay-enum", 1);
    SharedSandbox.produce(
        topic,
        0,
        json(1, 1, "1.00", "NEW"),
        json(2, 1, "2.00", "REFUNDED"),
        json(3, 2, "3.00", "REFUNDED"),
        TOO_LONG,
        BAD_JSON);
    String table = SharedSandbox.newTableLike("orders", "orders_replay");
    String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_replay");
    List<String> options = kafkaToJdbc(topic, table, "jdbc:" + dlq);

    // 1. The unknown symbol is dead-lettered (with the too-long currency and the broken JSON).
    List<String> load = new ArrayList<>(List.of("kafka-to-jdbc", "--bounded"));
    load.addAll(options.subList(1, options.size()));
    assertOk(run(load.toArray(String[]::new)));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(reason || '@' || step, ',' ORDER BY origin) FROM " + dlq),
        equalTo("schema@Parse,schema@Parse,sink@Upsert,parse@Parse"));

    // 2. The schema change, through the contract: a version that drops a symbol is refused...
    assertThat(
        replay(
            List.of("--from=jdbc:" + dlq),
            options,
            "--schemaFile=" + orderV3("[ \"NEW\", \"PAID\", \"SHIPPED\" ]")),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8), containsString("breaks the contract of Order"));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("CANCELLED"));
    // ... one that adds REFUNDED keeps it, and the table learns the new status as a migration
    // would.
    Path v3 = orderV3("[ \"NEW\", \"PAID\", \"SHIPPED\", \"CANCELLED\", \"REFUNDED\" ]");
    String check =
        SharedSandbox.text(
            "SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = '"
                + table
                + "'::regclass");
    SharedSandbox.execute(
        "ALTER TABLE "
            + table
            + " DROP CONSTRAINT "
            + check
            + ", ADD CHECK (status IN ('NEW', 'PAID', 'SHIPPED', 'CANCELLED', 'REFUNDED'))");

    // A dry run says what would land and writes nothing.
    assertOk(replay(List.of("--from=jdbc:" + dlq, "--dryRun"), options, "--schemaFile=" + v3));
    String dry = out.toString(StandardCharsets.UTF_8);
    assertThat(dry, containsString("Selected 4 dead letter(s) from jdbc:" + dlq));
    assertThat(dry, containsString("       2  schema @ Parse"));
    assertThat(dry, containsString("would land                    3"));
    assertThat(dry, containsString("would fail again              1"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + dlq + " WHERE replayed_at IS NULL"), is(4L));

    // 3. The replay lands them; the table equals the expected table.
    Path report = dir.resolve("replay-report.json");
    assertOk(
        replay(
            List.of("--from=jdbc:" + dlq), options, "--schemaFile=" + v3, "--runReport=" + report));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id || ':' || status || ':' || amount || ':' || version, ','"
                + " ORDER BY order_id) FROM "
                + table),
        equalTo("1:NEW:1.00:1,2:REFUNDED:2.00:1,3:REFUNDED:3.00:2"));
    String summary = out.toString(StandardCharsets.UTF_8);
    assertThat(
        summary,
        containsString(
            "replay         selected 4 = landed 2 + dead-lettered again 2 + filtered 0"));
    JsonNode replayed = new ObjectMapper().readTree(report.toFile()).get("replay");
    assertThat(
        replayed.toString(),
        equalTo(
            "{\"selected\":4,\"landed\":2,\"dead_lettered_again\":2,\"filtered\":0,\"balanced\":true}"));
    assertBalanced(report);

    // Records that still fail come back with attempt 2, their origin kept; the replayed are marked.
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(origin || ' ' || reason || ' attempt ' || attempt, ',' ORDER BY"
                + " origin) FROM "
                + dlq
                + " WHERE replayed_at IS NULL"),
        equalTo("kafka:" + topic + "/0@3 sink attempt 2,kafka:" + topic + "/0@4 parse attempt 2"));
    assertThat(
        SharedSandbox.count(
            "SELECT count(DISTINCT replay_run) FROM " + dlq + " WHERE replayed_at IS NOT NULL"),
        is(1L));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + dlq + " WHERE replayed_at IS NOT NULL"),
        is(4L));

    // 4. A second replay of the schema failures lands nothing new: they are marked.
    SharedSandbox.execute("UPDATE " + table + " SET note = 'untouched'");
    assertOk(
        replay(List.of("--from=jdbc:" + dlq, "--reason=schema"), options, "--schemaFile=" + v3));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("Nothing to replay."));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM " + table + " WHERE note = 'untouched'"), is(3L));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + dlq), is(6L));
  }

  @Test
  void kafkaDeadLettersAreReplayedOnceThroughTheLedgerTopic() throws Exception {
    String topic = SharedSandbox.newTopic("replay-kafka", 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "SHIPED"));
    String table = SharedSandbox.newTableLike("orders", "orders_replay_kafka");
    String dlq = SharedSandbox.newTopic("replay-kafka-dlq", 1);
    List<String> options = kafkaToJdbc(topic, table, "kafka:" + dlq);
    List<String> load = new ArrayList<>(List.of("kafka-to-jdbc", "--bounded"));
    load.addAll(options.subList(1, options.size()));
    assertOk(run(load.toArray(String[]::new)));

    // Nothing fixed: the dead letter fails again (attempt 2); the ledger topic marks the first,
    // so a later replay selects only the new one.
    assertOk(replay(List.of("--from=kafka:" + dlq), options));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString("selected 1 = landed 0 + dead-lettered again 1 + filtered 0"));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("kafka:" + dlq + ".replayed"));
    assertOk(replay(List.of("--from=kafka:" + dlq, "--dryRun"), options));
    String second = out.toString(StandardCharsets.UTF_8);
    assertThat(second, containsString("Selected 1 dead letter(s)"));
    assertThat(second, containsString("would fail again              1"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
  }

  @Test
  void filesToLakeReplayPublishesTheRecoveredRecordsIntoTheirPartitions() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        in.resolve("orders.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n"
            + "1,10,19.99,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "2,20,250.00,EUR,NEW,2026-11-25T09:00:00Z,2026-11-25T09:00:00Z,1,big\n"
            + "3,30,300.00,EUR,NEW,2026-11-26T09:00:00Z,2026-11-26T09:00:00Z,1,bigger\n");
    Path strict =
        Files.writeString(
            dir.resolve("strict.yaml"),
            "dataset: orders\nrecord_rules:\n  - {rule: range, field: amount, max: 100, severity: error}\n");
    Path relaxed =
        Files.writeString(
            dir.resolve("relaxed.yaml"),
            "dataset: orders\nrecord_rules:\n  - {rule: range, field: amount, max: 1000, severity: error}\n");
    Path lake = dir.resolve("lake");
    Path dlq = dir.resolve("dlq");
    List<String> options =
        List.of(
            "--pipeline=files-to-lake",
            "--input=" + in + "/*.csv",
            "--output=" + lake,
            "--deadLetter=file:" + dlq);
    List<String> load = new ArrayList<>(List.of("files-to-lake", "--rules=" + strict));
    load.addAll(options.subList(1, options.size()));
    assertOk(run(load.toArray(String[]::new)));
    assertThat(LakeFiles.readDeadLetters(dlq).size(), is(2));

    // After the rules change, the replay publishes the two into their own date partitions.
    Path report = dir.resolve("replay-report.json");
    assertOk(
        replay(
            List.of("--from=file:" + dlq, "--rule=range(amount)"),
            options,
            "--rules=" + relaxed,
            "--runReport=" + report));
    Map<String, List<Long>> byPartition = new TreeMap<>();
    LakeFiles.readAvro(lake, Order.class)
        .forEach(
            (file, orders) ->
                orders.forEach(
                    o ->
                        byPartition
                            .computeIfAbsent(
                                Path.of(file).getParent().getFileName().toString(),
                                k -> new ArrayList<>())
                            .add(o.getOrderId())));
    assertThat(
        byPartition.toString(),
        equalTo("{dt=2026-11-24=[1], dt=2026-11-25=[2], dt=2026-11-26=[3]}"));
    JsonNode replayed = new ObjectMapper().readTree(report.toFile()).get("replay");
    assertThat(
        replayed.toString(),
        equalTo(
            "{\"selected\":2,\"landed\":2,\"dead_lettered_again\":0,\"filtered\":0,\"balanced\":true}"));
    assertBalanced(report);
    assertThat(Files.list(dlq.resolve("_replayed")).count(), is(1L));

    // Replayed once: a second replay selects nothing, and the lake keeps one copy of each.
    assertOk(replay(List.of("--from=file:" + dlq), options, "--rules=" + relaxed));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("Nothing to replay."));
    assertThat(
        LakeFiles.readAvro(lake, Order.class).values().stream().mapToLong(List::size).sum(),
        is(3L));
    List<DeadLetter> letters = LakeFiles.readDeadLetters(dlq);
    assertThat(letters.size(), is(2));
    assertThat(
        new String(DeadLetterJson.bytes(letters.get(0).getPayloadHeader()), StandardCharsets.UTF_8),
        containsString("order_id,customer_id"));
  }

  /**
   * A replay names what is there: a store holding only another pipeline's dead letters says so (not
   * a bare "nothing to replay"), and a line that is no dead letter is named by file, line and
   * field, not by a NullPointerException.
   */
  @Test
  void aReplaySaysWhatTheStoreHoldsAndNamesABrokenLine() throws Exception {
    Path dlq = Files.createDirectories(dir.resolve("mixed-dlq"));
    DeadLetter other =
        DeadLetters.forStep("kafka-to-jdbc", "Parse")
            .of(
                SourceRecord.of("kafka:orders/0@7", utf8("{oops")),
                new RecordException(FailureReason.PARSE, "invalid JSON"));
    Path file = dlq.resolve("dead-letters-x-00000-of-00001.jsonl");
    Files.writeString(file, DeadLetterJson.toJson(other) + "\n");
    List<String> filesToLake =
        List.of(
            "--pipeline=files-to-lake",
            "--input=" + dir.resolve("none") + "/*.csv",
            "--output=" + dir.resolve("mixed-lake"),
            "--deadLetter=file:" + dir.resolve("mixed-again"));

    assertOk(replay(List.of("--from=file:" + dlq), filesToLake));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString(
            "Nothing to replay. --from=file:"
                + dlq
                + " holds no dead letter of files-to-lake, but 1 of kafka-to-jdbc"));

    JsonNode broken = new ObjectMapper().readTree(DeadLetterJson.toJson(other));
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken).remove("payload_base64");
    Files.writeString(file, broken + "\n", StandardOpenOption.APPEND);
    assertThat(replay(List.of("--from=file:" + dlq), filesToLake), is(Launcher.USAGE));
    String printed = err.toString(StandardCharsets.UTF_8);
    assertThat(printed, containsString(file.getFileName() + " line 2 is no dead letter"));
    assertThat(printed, containsString("field 'payload_base64' is missing"));
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-to-jdbc's SCD2 history on a real broker and database: versions out of order over two
 * partitions, in batches of two, give the rows a reader expects; only tracked columns open a row;
 * the tables are checked, and what cannot work is refused, before anything is read.
 */
@ExtendWith(SharedSandbox.class)
class HistoryEndToEndTest extends LauncherCalls {
  @TempDir Path dir;

  private static String tables(String name) throws Exception {
    String history = name + "_" + java.util.UUID.randomUUID().toString().substring(0, 8);
    SharedSandbox.execute(
        "CREATE TABLE "
            + history
            + " (LIKE orders INCLUDING DEFAULTS, valid_from bigint NOT NULL, valid_to bigint,"
            + " is_current boolean NOT NULL, is_deleted boolean NOT NULL, PRIMARY KEY (order_id,"
            + " valid_from)); CREATE TABLE "
            + history
            + "_versions (LIKE orders INCLUDING DEFAULTS, PRIMARY KEY (order_id, version))");
    return history;
  }

  private String[] args(String topic, String table, String... more) {
    return KafkaToJdbcArgs.with(
        KafkaToJdbcArgs.of(
            topic,
            table,
            "--consumerGroup=" + topic,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--runReport=" + dir.resolve("report.json"),
            "--bounded",
            "--history=scd2"),
        more);
  }

  @Test
  void versionsOutOfOrderGiveTheHistoryAReaderExpects() throws Exception {
    String topic = SharedSandbox.newTopic("history", 2);
    // Order 1: NEW 1.00, then PAID (v3), then SHIPPED (v4); v2 changes only the currency, which is
    // not tracked. Order 2: NEW, then CANCELLED. Newest first, over both partitions.
    SharedSandbox.produce(topic, 0, json(1, 4, "1.00", "SHIPPED"), json(2, 2, "2.00", "CANCELLED"));
    SharedSandbox.produce(topic, 1, json(1, 2, "1.00", "USD", "NEW"), json(1, 3, "1.00", "PAID"));
    SharedSandbox.produce(topic, 0, json(2, 1, "2.00", "NEW"), json(1, 1, "1.00", "NEW"));
    String table = tables("orders_history");
    assertOk(run(args(topic, table, "--batchSize=2", "--historyColumns=status,amount")));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(concat_ws(':', order_id, status, currency, valid_from,"
                + " coalesce(valid_to::text, '-'), is_current, is_deleted), ',' ORDER BY order_id,"
                + " valid_from) FROM "
                + table),
        equalTo(
            "1:NEW:EUR:1:3:f:f,1:PAID:EUR:3:4:f:f,1:SHIPPED:EUR:4:-:t:f,"
                + "2:NEW:EUR:1:2:f:f,2:CANCELLED:EUR:2:-:t:f"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table + "_versions"), is(6L));
    assertBalanced(dir.resolve("report.json"));
  }

  /**
   * Under add_columns a field the contract lacks becomes a column of the history and of its ledger
   * (in one transaction), tracked like every column when --historyColumns is left out: versions
   * before it read NULL there, whatever order the events came in. (--historyColumns can only name
   * columns the records have when the run starts.)
   */
  @Test
  void aNewFieldBecomesAColumnOfTheHistoryAndItsLedger() throws Exception {
    String topic = SharedSandbox.newTopic("history-add", 1);
    SharedSandbox.produce(
        topic,
        0,
        withField(json(1, 3, "1.00", "PAID"), "coupon", "\"SPRING\""),
        json(2, 1, "2.00", "NEW"),
        json(1, 1, "1.00", "NEW"),
        withField(json(1, 2, "1.00", "PAID"), "coupon", "\"WELCOME\""));
    String table = tables("orders_history_add");
    assertOk(run(args(topic, table, "--batchSize=2", "--onSchemaChange=add_columns")));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(concat_ws(':', order_id, status, coalesce(coupon, '-'), valid_from,"
                + " coalesce(valid_to::text, '-'), is_current), ',' ORDER BY order_id, valid_from)"
                + " FROM "
                + table),
        equalTo("1:NEW:-:1:2:f,1:PAID:WELCOME:2:3:f,1:PAID:SPRING:3:-:t,2:NEW:-:1:-:t"));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(coalesce(coupon, '-'), ',' ORDER BY order_id, version) FROM "
                + table
                + "_versions"),
        equalTo("-,WELCOME,SPRING,-"));
    assertBalanced(dir.resolve("report.json"));
  }

  /** The order's JSON with one more field. */
  private static byte[] withField(byte[] order, String field, String valueJson) {
    String text = new String(order, StandardCharsets.UTF_8);
    return (text.substring(0, text.length() - 1) + ",\"" + field + "\":" + valueJson + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theTablesAreCheckedAndAStagedRunIsRefused() throws Exception {
    String topic = SharedSandbox.newTopic("history-refused", 1);
    // A plain table of orders is no history: the difference is named, with the DDL of both.
    String plain = SharedSandbox.newTableLike("orders", "orders_not_history");
    assertThat(run(args(topic, plain)), is(Launcher.USAGE));
    String error = err.toString(StandardCharsets.UTF_8);
    for (String expected :
        List.of(
            plain + "_versions does not exist",
            "--history=scd2 writes two tables",
            "valid_from bigint NOT NULL")) {
      assertThat(error, containsString(expected));
    }
    err.reset();
    String table = tables("orders_history_staged");
    assertThat(run(args(topic, table, "--onSchemaChange=fail")), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--history=scd2 cannot write through a staging table"));
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-to-jdbc bounded with dataset rules is write-audit-publish: it upserts into a staging copy
 * of the table and merges it in only when the quality gate is open; the consumer group's offsets
 * are committed only then. The {@code relationships} rule looks customer ids up in a table.
 */
@ExtendWith(SharedSandbox.class)
class KafkaToJdbcGateTest extends LauncherCalls {
  @TempDir Path dir;

  private int load(String topic, String table, Path rules) {
    out.reset();
    err.reset();
    return run(
        "kafka-to-jdbc",
        "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
        "--topic=" + topic,
        "--consumerGroup=gate-" + topic,
        "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
        "--jdbcUser=postgres",
        "--table=" + table,
        "--bounded",
        "--deadLetter=file:" + dir.resolve("dlq"),
        "--runReport=" + dir.resolve("run-report.json"),
        "--rules=" + rules);
  }

  private JsonNode rule(String name) throws Exception {
    for (JsonNode r :
        new ObjectMapper().readTree(dir.resolve("quality-report.json").toFile()).get("rules")) {
      if (r.get("rule").asText().equals(name)) {
        return r;
      }
    }
    throw new AssertionError("no rule " + name + " in the quality report");
  }

  private static long stagingTables() throws Exception {
    return SharedSandbox.count(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'sluice_stage_%'");
  }

  @Test
  void aClosedGateLeavesTheTableAndOffsetsUntouchedAndTheFixedRerunPublishes() throws Exception {
    String table = SharedSandbox.newTableLike("orders", "orders_gate");
    String customers = SharedSandbox.newTableLike("customers", "gate_customers");
    SharedSandbox.execute(
        "INSERT INTO "
            + customers
            + " (customer_id, name, country, created_at, updated_at, version) VALUES"
            + " (101, 'a', 'FR', now(), now(), 1), (102, 'b', 'DE', now(), now(), 1)");
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " (order_id, customer_id, amount, currency, status, created_at, updated_at, version)"
            + " VALUES (9, 109, 9.00, 'EUR', 'NEW', now(), now(), 1)");
    String before = SharedSandbox.checksum(table, "order_id");
    String topic = SharedSandbox.newTopic("gate", 1);
    SharedSandbox.produce(
        topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"), json(3, 1, "3.00", "NEW"));
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\ndataset_rules:\n"
                + "  - {rule: relationships, field: customer_id, to: "
                + customers
                + ", severity: error}\n"
                + "  - {rule: row_count, min: 1, severity: error}\n");

    assertThat(load(topic, table, rules), is(Launcher.QUALITY));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("error rule relationships(customer_id): observed 1 record(s) with a value"));
    assertThat(SharedSandbox.checksum(table, "order_id"), equalTo(before));
    assertThat(stagingTables(), is(0L));
    JsonNode orphans = rule("relationships(customer_id)");
    assertThat(orphans.get("failed").asLong(), is(1L));
    assertThat(orphans.get("passed").asBoolean(), is(false));
    assertThat(orphans.get("samples").toString(), containsString("customer_id=103"));

    // The reference data is fixed: the same group reads the same records again, and publishes.
    SharedSandbox.execute(
        "INSERT INTO "
            + customers
            + " (customer_id, name, country, created_at, updated_at, version) VALUES"
            + " (103, 'c', 'ES', now(), now(), 1)");
    assertOk(load(topic, table, rules));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id::text, ',' ORDER BY order_id) FROM " + table),
        equalTo("1,2,3,9"));
    assertThat(stagingTables(), is(0L));
    assertThat(rule("relationships(customer_id)").get("passed").asBoolean(), is(true));
    assertBalanced(dir.resolve("run-report.json"));
    // Lineage names the table the rows were published to, not the staging table they passed
    // through.
    String sinks =
        new ObjectMapper()
            .readTree(dir.resolve("run-report.json").toFile())
            .get("lineage")
            .get("sinks")
            .toString();
    assertThat(sinks, containsString(table));
    assertThat(sinks, not(containsString("sluice_stage_")));

    // Offsets were committed with the publish: a third run finds nothing new.
    String published = SharedSandbox.checksum(table, "order_id");
    assertThat(load(topic, table, rules), is(Launcher.QUALITY));
    assertThat(rule("row_count").get("observed").asText(), equalTo("0"));
    assertThat(SharedSandbox.checksum(table, "order_id"), equalTo(published));
  }

  @Test
  void aWarnOnlyFailurePublishes() throws Exception {
    String table = SharedSandbox.newTableLike("orders", "orders_gate_warn");
    String topic = SharedSandbox.newTopic("gate-warn", 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    Path rules =
        Files.writeString(
            dir.resolve("warn.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: row_count, min: 10, severity: warn}\n");
    assertOk(load(topic, table, rules));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(2L));
    assertThat(rule("row_count").get("passed").asBoolean(), is(false));
    assertThat(stagingTables(), is(0L));
  }
}

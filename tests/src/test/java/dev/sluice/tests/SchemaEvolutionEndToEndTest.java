package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.Launcher;
import dev.sluice.runners.Migrations;
import dev.sluice.schemas.SchemaHistory;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Schemas as contracts, end to end: v1 producers feed a v2 pipeline; migrations go both ways. */
@ExtendWith(SharedSandbox.class)
class SchemaEvolutionEndToEndTest extends LauncherCalls {
  @TempDir Path dir;

  private static byte[] v1Avro(long id, String status) throws Exception {
    Schema v1 = SchemaHistory.of("order").version(1);
    GenericData.Record r = new GenericData.Record(v1);
    r.put("order_id", id);
    r.put("customer_id", 100 + id);
    r.put("amount", ByteBuffer.wrap(BigInteger.valueOf(995).toByteArray()));
    r.put("currency", "EUR");
    r.put("status", new GenericData.EnumSymbol(v1.getField("status").schema(), status));
    r.put("created_at", 1_795_608_000_000L);
    r.put("updated_at", 1_795_608_000_000L);
    r.put("version", 1L);
    r.put("note", "from v1");
    return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(r).array();
  }

  @Test
  void aV1ProducerFeedsAV2PipelineEndToEnd() throws Exception {
    String topic = SharedSandbox.newTopic("evolution", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_evolution");
    SharedSandbox.produce(topic, 0, v1Avro(1, "NEW"), v1Avro(2, "PAID"));
    int code =
        run(
            "kafka-to-jdbc",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=" + topic,
            "--format=avro",
            "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
            "--jdbcUser=postgres",
            "--table=" + table,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--runReport=" + dir.resolve("report.json"),
            "--bounded");
    assertThat(err.toString(StandardCharsets.UTF_8), code, is(Launcher.OK));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(order_id || ':' || status || ':' || amount || ':' || note || ':' || channel,"
                + " ',' ORDER BY order_id) FROM "
                + table),
        equalTo("1:NEW:9.95:from v1:web,2:PAID:9.95:from v1:web"));
    assertThat(LakeFiles.readDeadLetters(dir.resolve("dlq")).size(), is(0));
    assertBalanced(dir.resolve("report.json"));
  }

  @Test
  void migrationsApplyRollBackAndReapply() throws Exception {
    String url = SharedSandbox.jdbcUrl().replace("/postgres", "/migrations");
    SharedSandbox.execute("DROP DATABASE IF EXISTS migrations");
    SharedSandbox.execute("CREATE DATABASE migrations");
    Migrations migrations = Migrations.on(url, "postgres", null);
    assertThat(
        migrations.apply(),
        equalTo(
            List.of(
                "1 orders",
                "2 customers",
                "3 dead letters",
                "4 orders channel",
                "5 export state",
                "6 dead letters once",
                "7 dead letters replay",
                "8 schema changes",
                "9 personal data",
                "10 roles",
                "11 workflow runs",
                "12 quartz")));

    assertThat(
        run("migrate", "rollback", "--target=2", "--jdbcUrl=" + url, "--jdbcUser=postgres"),
        is(Launcher.OK));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString(
            "Rolled back: [12 quartz, 11 workflow runs, 10 roles, 9 personal data, 8 schema changes, 7 dead letters replay, 6 dead letters once, 5 export state, 4 orders channel, 3 dead letters]"));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM pg_database WHERE datname = 'migrations'"),
        is(1L));
    try (var c = DriverManager.getConnection(url, "postgres", "");
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_name = 'sluice_dead_letters'),"
                    + " (SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'channel'),"
                    + " (SELECT count(*) FROM information_schema.tables WHERE table_name = 'customers')")) {
      rs.next();
      assertThat(rs.getLong(1) + "," + rs.getLong(2) + "," + rs.getLong(3), equalTo("0,0,1"));
    }

    out.reset();
    assertThat(
        run("migrate", "status", "--jdbcUrl=" + url, "--jdbcUser=postgres"), is(Launcher.OK));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("5  export state  Pending"));
    assertThat(run("migrate", "apply", "--jdbcUrl=" + url, "--jdbcUser=postgres"), is(Launcher.OK));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString(
            "Applied: [3 dead letters, 4 orders channel, 5 export state, 6 dead letters once,"
                + " 7 dead letters replay, 8 schema changes, 9 personal data, 10 roles,"
                + " 11 workflow runs, 12 quartz]"));
    assertThat(migrations.apply(), equalTo(List.of()));
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;

import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-to-jdbc with a SQL transform, on Flink's local cluster, against the sandbox's broker and
 * PostgreSQL: renamed and derived columns, a WHERE, and an enrichment from a reference table of
 * currency rates; and a refusal, before anything is read, of SQL whose rows do not fit the table.
 */
@ExtendWith(SharedSandbox.class)
class TransformEndToEndTest extends LauncherCalls {
  private static final String SQL =
      "SELECT i.order_id AS id, LOWER(i.currency) AS cur, i.amount * r.rate AS amount_eur,"
          + " i.version, i.status AS state"
          + " FROM input i LEFT JOIN rates r ON i.currency = r.currency"
          + " WHERE i.status <> 'CANCELLED'";

  @TempDir Path dir;

  private static void tables() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS order_totals");
    SharedSandbox.execute(
        "CREATE TABLE order_totals (id bigint PRIMARY KEY, cur text NOT NULL,"
            + " amount_eur numeric(14,2), version bigint NOT NULL, state text NOT NULL)");
    SharedSandbox.execute("DROP TABLE IF EXISTS currency_rates");
    SharedSandbox.execute(
        "CREATE TABLE currency_rates (currency text PRIMARY KEY, rate numeric(10,4) NOT NULL)");
    SharedSandbox.execute(
        "INSERT INTO currency_rates VALUES ('EUR', 1), ('USD', 0.9), ('JPY', 1000)");
  }

  /**
   * The enrichment's orders: EUR in two versions, USD, GBP (no rate) and a cancelled EUR, over two
   * partitions.
   */
  private static void produceOrders(String topic) throws Exception {
    SharedSandbox.produce(topic, 0, json(1, 1, "10.00", "NEW"), json(1, 2, "20.00", "PAID"));
    SharedSandbox.produce(
        topic,
        1,
        json(2, 1, "5.00", "USD", "NEW"),
        json(3, 1, "1.00", "GBP", "NEW"),
        json(4, 1, "2.00", "EUR", "CANCELLED"));
  }

  private String[] args(String topic, String sql) {
    return new String[] {
      "kafka-to-jdbc",
      "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
      "--topic=" + topic,
      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
      "--jdbcUser=postgres",
      "--bounded",
      "--table=order_totals",
      "--sql=" + sql,
      "--lookup=rates=jdbc:currency_rates",
      "--runReport=" + dir.resolve("report.json"),
      "--lineage=file:" + dir.resolve("lineage"),
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--runner=FlinkRunner",
      "--flinkMaster=[local]",
      "--parallelism=2"
    };
  }

  /**
   * The enrichment with --lookupRefresh on Flink: the lookup read by key gives the rows the bounded
   * join gives (LEFT JOIN's NULL for a currency without a rate included).
   */
  @Test
  void refreshedLookupsJoinAsTheBoundedOnesOnFlink() throws Exception {
    tables();
    String topic = SharedSandbox.newTopic("transform-refreshed", 2);
    produceOrders(topic);
    assertOk(run(KafkaToJdbcArgs.with(args(topic, SQL), "--lookupRefresh=PT1M")));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(concat_ws('|', id, cur, coalesce(amount_eur::text, 'null'),"
                + " version, state), ' ' ORDER BY id) FROM order_totals"),
        equalTo("1|eur|20.00|2|PAID 2|usd|4.50|1|NEW 3|gbp|null|1|NEW"));
    assertBalanced(dir.resolve("report.json"));
  }

  /**
   * A streaming run with --lookupRefresh joins the rates as they are now: a rate changed in
   * PostgreSQL while the run goes on applies to the records that come after the refresh (the rows
   * written before keep theirs), a currency without a rate gets NULL (LEFT JOIN), and the run goes
   * on.
   */
  @Test
  void aStreamingRunJoinsTheRatesOfNowWithLookupRefresh() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS order_totals_live");
    SharedSandbox.execute(
        "CREATE TABLE order_totals_live (id bigint PRIMARY KEY, cur text NOT NULL,"
            + " amount_eur numeric(14,2), version bigint NOT NULL, state text NOT NULL)");
    SharedSandbox.execute("DROP TABLE IF EXISTS currency_rates_live");
    SharedSandbox.execute(
        "CREATE TABLE currency_rates_live (currency text PRIMARY KEY, rate numeric(10,4) NOT"
            + " NULL); INSERT INTO currency_rates_live VALUES ('EUR', 1), ('USD', 0.9)");
    String topic = SharedSandbox.newTopic("transform-live", 1);
    KafkaToJdbcOptions options =
        StreamingOrders.kafkaToJdbc(topic, "order_totals_live", dir.resolve("dlq-live"));
    options.setSql(SQL);
    options.setLookup(List.of("rates=jdbc:currency_rates_live"));
    options.setLookupRefresh("PT1S");
    PipelineResult result = PipelineRun.build(new KafkaToJdbc(), options).pipeline().run();
    String totals =
        "SELECT coalesce(string_agg(concat_ws('|', id, cur, coalesce(amount_eur::text, 'null')),"
            + " ' ' ORDER BY id), '') FROM order_totals_live";
    try {
      SharedSandbox.produce(
          topic, 0, json(1, 1, "10.00", "NEW"), json(2, 1, "10.00", "USD", "NEW"));
      String before = "1|eur|10.00 2|usd|9.00";
      assertThat(StreamingOrders.await(() -> SharedSandbox.text(totals), before), equalTo(before));

      SharedSandbox.execute("UPDATE currency_rates_live SET rate = 2 WHERE currency = 'EUR'");
      // New versions of order 3, each awaited, until one was joined after a refresh (the newest
      // version is the row).
      String order3 =
          "SELECT coalesce(max(amount_eur::text || ':' || version), '') FROM"
              + " order_totals_live WHERE id = 3";
      java.time.Instant deadline = java.time.Instant.now().plusSeconds(60);
      String row = "";
      for (long version = 1;
          !row.startsWith("20.00:") && java.time.Instant.now().isBefore(deadline);
          version++) {
        SharedSandbox.produce(topic, 0, json(3, version, "10.00", "NEW"));
        String landed = ":" + version;
        Poll.until(
            java.time.Duration.ofSeconds(20), () -> SharedSandbox.text(order3).endsWith(landed));
        row = SharedSandbox.text(order3);
      }
      assertThat(row, startsWith("20.00:"));
      SharedSandbox.produce(topic, 0, json(4, 1, "10.00", "GBP", "NEW"));
      String after = before + " 3|eur|20.00 4|gbp|null";
      // The rows written before the change keep the rate they were joined with.
      assertThat(StreamingOrders.await(() -> SharedSandbox.text(totals), after), equalTo(after));
      assertThat(result.getState(), is(PipelineResult.State.RUNNING));
    } finally {
      result.cancel();
      result.waitUntilFinish(org.joda.time.Duration.standardSeconds(30));
    }
  }

  @Test
  void sqlRenamesDerivesFiltersAndEnrichesOnFlink() throws Exception {
    tables();
    String topic = SharedSandbox.newTopic("transform", 2);
    produceOrders(topic);
    SharedSandbox.produce(topic, 0, utf8("{bad"));
    // 9,999,999,999,990.00 has more digits than amount_eur's numeric(14,2): the table rejects the
    // row, a sink dead letter.
    SharedSandbox.produce(topic, 1, json(5, 1, "9999999999.99", "JPY", "NEW"));
    assertOk(run(args(topic, SQL)));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(concat_ws('|', id, cur, coalesce(amount_eur::text, 'null'),"
                + " version, state), ' ' ORDER BY id) FROM order_totals"),
        equalTo("1|eur|20.00|2|PAID 2|usd|4.50|1|NEW 3|gbp|null|1|NEW"));
    assertBalanced(dir.resolve("report.json"));
    com.fasterxml.jackson.databind.JsonNode report =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(dir.resolve("report.json").toFile());
    assertThat(report.get("dead_lettered_by_reason").get("sink").asLong(), is(1L));
    assertThat(report.get("dead_lettered_by_reason").get("parse").asLong(), is(1L));
    // The cancelled order is what the WHERE left out.
    assertThat(report.get("filtered_by").get("transform").asLong(), is(1L));

    // Lineage: the rates table is an input, and each column names the fields it comes from.
    List<String> lines = java.nio.file.Files.readAllLines(dir.resolve("lineage/openlineage.jsonl"));
    com.fasterxml.jackson.databind.JsonNode complete =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(lines.size() - 1));
    assertThat(complete.get("eventType").asText(), equalTo("COMPLETE"));
    List<String> inputs = new java.util.ArrayList<>();
    complete.get("inputs").forEach(i -> inputs.add(i.get("name").asText()));
    assertThat(inputs.get(0), equalTo(topic));
    assertThat(inputs.get(1), containsString("public.currency_rates"));
    com.fasterxml.jackson.databind.JsonNode columns =
        complete.get("outputs").get(0).get("facets").get("columnLineage").get("fields");
    assertThat(fields(columns.get("cur")), equalTo(List.of(topic + ".currency")));
    assertThat(
        fields(columns.get("amount_eur")),
        equalTo(List.of(topic + ".amount", inputs.get(1) + ".rate")));
    assertThat(fields(columns.get("state")), equalTo(List.of(topic + ".status")));
  }

  /**
   * kafka-to-lake with --sql into an Iceberg table whose columns are the OrderAmount contract:
   * derived columns, a filter, the newest version per key merged; a rerun adds nothing.
   */
  @Test
  void sqlShapesRowsIntoALakeTableOfItsContract() throws Exception {
    String topic = SharedSandbox.newTopic("transform-lake", 2);
    SharedSandbox.produce(
        topic, 0, json(1, 1, "10.00", "NEW"), json(1, 2, "20.50", "PAID"), utf8("{bad"));
    SharedSandbox.produce(
        topic, 1, json(2, 1, "5.00", "USD", "NEW"), json(3, 1, "2.00", "EUR", "CANCELLED"));
    String[] args = {
      "kafka-to-lake",
      "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
      "--topic=" + topic,
      "--consumerGroup=transform-lake",
      "--bounded",
      "--output=iceberg:lake.order_amounts",
      "--warehouse=" + dir.resolve("warehouse"),
      "--keyFields=order_id",
      "--eventTimeField=updated_at",
      "--outputSchema=OrderAmount",
      "--sql=SELECT order_id, LOWER(currency) AS currency, amount,"
          + " CAST(amount * 100 AS BIGINT) AS amount_cents, updated_at, version FROM input"
          + " WHERE status <> 'CANCELLED'",
      "--runReport=" + dir.resolve("lake-report.json"),
      "--deadLetter=file:" + dir.resolve("lake-dlq")
    };
    assertOk(run(args));
    assertBalanced(dir.resolve("lake-report.json"));
    List<String> expected = List.of("1 eur 20.50 2050 2", "2 usd 5.00 500 1");
    assertThat(lakeRows(), equalTo(expected));
    // The group's offsets moved: a rerun reads nothing and the table stays as it is.
    assertOk(run(args));
    assertThat(lakeRows(), equalTo(expected));
  }

  private List<String> lakeRows() throws Exception {
    return IcebergReads.rows(
        dir.resolve("warehouse"), "lake.order_amounts", null, TransformEndToEndTest::amount);
  }

  /** files-to-lake with --sql: lake files of the OrderAmount contract, the WHERE counted. */
  @Test
  void sqlShapesCsvFilesIntoLakeFilesOfItsContract() throws Exception {
    Path in = java.nio.file.Files.createDirectories(dir.resolve("in"));
    java.nio.file.Files.writeString(
        in.resolve("orders.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n"
            + "1,10,1.25,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:30:00Z,1,a\n"
            + "2,20,2.00,USD,CANCELLED,2026-11-25T09:00:00Z,2026-11-25T09:30:00Z,1,\n"
            + "3,x,3.00,EUR,NEW,2026-11-25T09:00:00Z,2026-11-25T09:30:00Z,1,\n"
            + "4,40,4.50,GBP,PAID,2026-11-25T09:00:00Z,2026-11-25T10:30:00Z,2,\n");
    Path lake = dir.resolve("files-lake");
    assertOk(
        run(
            "files-to-lake",
            "--input=" + in + "/*.csv",
            "--output=" + lake,
            "--partitionField=updated_at",
            "--outputSchema=OrderAmount",
            "--sql=SELECT order_id, LOWER(currency) AS currency, amount,"
                + " CAST(amount * 100 AS BIGINT) AS amount_cents, updated_at, version FROM input"
                + " WHERE status <> 'CANCELLED'",
            "--deadLetter=file:" + dir.resolve("files-dlq")));
    assertBalanced(lake.resolve("_sluice/run-report.json"));
    List<String> rows = new java.util.ArrayList<>();
    LakeFiles.readAvroByInput(lake, dev.sluice.schemas.OrderAmount.class)
        .values()
        .forEach(
            amounts ->
                amounts.forEach(
                    a ->
                        rows.add(
                            a.getOrderId()
                                + " "
                                + a.getCurrency()
                                + " "
                                + a.getAmount()
                                + " "
                                + a.getAmountCents())));
    rows.sort(null);
    assertThat(rows, equalTo(List.of("1 eur 1.25 125", "4 gbp 4.50 450")));
  }

  /**
   * jdbc-to-lake with --sql merging into an Iceberg table of the OrderAmount contract: the first
   * export, then an update and an insert merged by the table's key, versioned by the watermark.
   */
  @Test
  void sqlShapesATableExportMergedIntoTheLake() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS transform_src");
    SharedSandbox.execute(
        "CREATE TABLE transform_src (order_id bigint PRIMARY KEY, currency text NOT NULL,"
            + " amount numeric(12,2) NOT NULL, status text NOT NULL, updated_at timestamptz NOT"
            + " NULL, version bigint NOT NULL)");
    SharedSandbox.execute(
        "INSERT INTO transform_src VALUES (1, 'EUR', 1.25, 'NEW', '2026-11-24 09:00+00', 1),"
            + " (2, 'USD', 2.00, 'CANCELLED', '2026-11-24 10:00+00', 1),"
            + " (3, 'GBP', 3.50, 'NEW', '2026-11-24 11:00+00', 1)");
    String[] args = {
      "jdbc-to-lake",
      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
      "--jdbcUser=postgres",
      "--table=transform_src",
      "--watermarkColumn=updated_at",
      "--output=iceberg:lake.jdbc_amounts",
      "--warehouse=" + dir.resolve("warehouse"),
      "--outputSchema=OrderAmount",
      "--sql=SELECT order_id, LOWER(currency) AS currency, amount,"
          + " CAST(amount * 100 AS BIGINT) AS amount_cents, updated_at, version FROM input"
          + " WHERE status <> 'CANCELLED'",
      "--deadLetter=file:" + dir.resolve("jdbc-dlq")
    };
    assertOk(run(args));
    List<String> first =
        IcebergReads.rows(
            dir.resolve("warehouse"), "lake.jdbc_amounts", null, TransformEndToEndTest::amount);
    assertThat(first, equalTo(List.of("1 eur 1.25 125 1", "3 gbp 3.50 350 1")));
    SharedSandbox.execute(
        "UPDATE transform_src SET amount = 9.99, version = 2, updated_at = '2026-11-25 09:00+00'"
            + " WHERE order_id = 1");
    SharedSandbox.execute(
        "INSERT INTO transform_src VALUES (4, 'EUR', 4.00, 'PAID', '2026-11-25 10:00+00', 1)");
    assertOk(run(args));
    assertThat(
        IcebergReads.rows(
            dir.resolve("warehouse"), "lake.jdbc_amounts", null, TransformEndToEndTest::amount),
        equalTo(List.of("1 eur 9.99 999 2", "3 gbp 3.50 350 1", "4 eur 4.00 400 1")));
  }

  private static String amount(org.apache.iceberg.data.Record r) {
    return r.getField("order_id")
        + " "
        + r.getField("currency")
        + " "
        + r.getField("amount")
        + " "
        + r.getField("amount_cents")
        + " "
        + r.getField("version");
  }

  /** A Debezium change event of an order (the JSON converter without schemas). */
  private static byte[] change(String op, long id, String amount, long version, long lsn) {
    String row =
        "{\"order_id\":"
            + id
            + ",\"customer_id\":7,\"amount\":\""
            + java.util.Base64.getEncoder()
                .encodeToString(new java.math.BigDecimal(amount).unscaledValue().toByteArray())
            + "\",\"currency\":\"EUR\",\"status\":\"NEW\","
            + "\"created_at\":\"2026-11-30T10:00:00.000000Z\",\"updated_at\":1764496800123000,"
            + "\"version\":"
            + version
            + ",\"note\":null,\"channel\":\"web\"}";
    return utf8(
        "{\"before\":"
            + (op.equals("d") ? row : "null")
            + ",\"after\":"
            + (op.equals("d") ? "null" : row)
            + ",\"source\":{\"connector\":\"postgresql\",\"lsn\":"
            + lsn
            + "},\"op\":\""
            + op
            + "\",\"ts_ms\":1}");
  }

  /** A bounded cdc-to-jdbc run of {@code sql} into {@code table}, its files named {@code name}. */
  private String[] cdcArgs(String topic, String table, String sql, String name) {
    return new String[] {
      "cdc-to-jdbc",
      "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
      "--topic=" + topic,
      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
      "--jdbcUser=postgres",
      "--bounded",
      "--table=" + table,
      "--sql=" + sql,
      "--runReport=" + dir.resolve(name + "-report.json"),
      "--deadLetter=file:" + dir.resolve(name + "-dlq")
    };
  }

  /** cdc-to-jdbc with a projection: a replica of some columns, renamed, deletes kept as flags. */
  @Test
  void cdcToJdbcAppliesAProjectionToItsReplica() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS order_totals_replica");
    SharedSandbox.execute(
        "CREATE TABLE order_totals_replica (order_id bigint PRIMARY KEY, total numeric(12,2) NOT"
            + " NULL, version bigint NOT NULL, _cdc_position bigint NOT NULL, _cdc_deleted boolean"
            + " NOT NULL)");
    String topic = SharedSandbox.newTopic("transform-cdc-projection", 1);
    SharedSandbox.produce(
        topic,
        0,
        change("c", 1, "10.00", 1, 100),
        change("c", 2, "5.00", 1, 101),
        change("u", 1, "12.50", 2, 102),
        change("d", 2, "5.00", 1, 103));
    assertOk(
        run(
            cdcArgs(
                topic,
                "order_totals_replica",
                "SELECT order_id, amount AS total, version, _cdc_position, _cdc_deleted FROM input",
                "cdc-projection")));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(concat_ws('|', order_id, total, version, _cdc_position,"
                + " _cdc_deleted), ' ' ORDER BY order_id) FROM order_totals_replica"),
        equalTo("1|12.50|2|102|f 2|5.00|1|103|t"));
    assertBalanced(dir.resolve("cdc-projection-report.json"));
  }

  /**
   * cdc-to-lake with a projection: the Iceberg table keeps some columns, renamed, under the
   * contract OrderPrice with the replica's bookkeeping; anything but a projection is refused.
   */
  @Test
  void cdcToLakeAppliesAProjectionToItsReplicaTable() throws Exception {
    String topic = SharedSandbox.newTopic("transform-cdc-lake", 1);
    SharedSandbox.produce(
        topic,
        0,
        change("c", 1, "10.00", 1, 100),
        change("c", 2, "5.00", 1, 101),
        change("u", 1, "12.50", 2, 102),
        change("d", 2, "5.00", 1, 103));
    Path warehouse = dir.resolve("cdc-warehouse");
    java.util.function.Function<String, String[]> cdcToLake =
        sql ->
            new String[] {
              "cdc-to-lake",
              "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
              "--topic=" + topic,
              "--bounded",
              "--keyFields=order_id",
              "--output=iceberg:lake.prices",
              "--warehouse=" + warehouse,
              "--sql=" + sql,
              "--outputSchema=OrderPrice",
              "--runReport=" + dir.resolve("cdc-lake-report.json"),
              "--deadLetter=file:" + dir.resolve("cdc-lake-dlq")
            };
    assertThat(
        run(
            cdcToLake.apply(
                "SELECT order_id, currency, amount * 2 AS total, updated_at, version,"
                    + " _cdc_position, _cdc_deleted FROM input")),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("its transform may only select columns, renamed or not"));

    assertOk(
        run(
            cdcToLake.apply(
                "SELECT order_id, currency, amount AS total, updated_at, version, _cdc_position,"
                    + " _cdc_deleted FROM input")));
    assertBalanced(dir.resolve("cdc-lake-report.json"));
    assertThat(
        IcebergReads.rows(
            warehouse,
            "lake.prices",
            null,
            r ->
                r.getField("order_id")
                    + "|"
                    + r.getField("currency")
                    + "|"
                    + r.getField("total")
                    + "|"
                    + r.getField("version")
                    + "|"
                    + r.getField("_cdc_position")
                    + "|"
                    + r.getField("_cdc_deleted")),
        equalTo(List.of("1|EUR|12.50|2|102|false", "2|EUR|5.00|1|103|true")));
  }

  @Test
  void cdcToJdbcTakesAProjectionOnly() throws Exception {
    tables();
    String topic = SharedSandbox.newTopic("transform-cdc", 1);
    int exit =
        run(
            cdcArgs(
                topic,
                "order_totals",
                "SELECT order_id, amount * 2 AS amount, _cdc_position, _cdc_deleted FROM input",
                "cdc-refused"));
    assertThat(exit, is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("its transform may only select columns, renamed or not"));
  }

  @Test
  void aLakeTransformWithoutAnOutputContractIsRefused() throws Exception {
    String topic = SharedSandbox.newTopic("transform-lake-refused", 1);
    int exit =
        run(
            "kafka-to-lake",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=" + topic,
            "--bounded",
            "--output=iceberg:lake.refused",
            "--warehouse=" + dir.resolve("warehouse"),
            "--sql=SELECT order_id FROM input",
            "--deadLetter=file:" + dir.resolve("refused-dlq"));
    assertThat(exit, is(Launcher.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("needs --outputSchema"));
  }

  private static List<String> fields(com.fasterxml.jackson.databind.JsonNode column) {
    List<String> fields = new java.util.ArrayList<>();
    column
        .get("inputFields")
        .forEach(f -> fields.add(f.get("name").asText() + "." + f.get("field").asText()));
    return fields;
  }

  @Test
  void sqlWhoseRowsDoNotFitTheTableIsRefusedBeforeAnythingIsRead() throws Exception {
    tables();
    String topic = SharedSandbox.newTopic("transform-refused", 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "10.00", "NEW"));
    int exit =
        run(
            args(
                topic,
                "SELECT i.order_id AS id, i.version FROM input i JOIN rates r USING (currency)"));
    assertThat(exit, is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        allOf(containsString("order_totals"), containsString("column cur is NOT NULL")));
    assertThat(SharedSandbox.count("SELECT count(*) FROM order_totals"), is(0L));
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.anEmptyMap;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.files.LakeNames;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.schemas.OrderStatus;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** files-to-lake end to end on the Direct runner: exact output, dead letters, accounting, rerun. */
class FilesToLakeEndToEndTest extends LauncherCalls {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note";
  private static final String CRLF = "\r\n";

  /** The input lines of orders.csv after its header, in order (line 2 onwards). */
  private static final List<byte[]> CSV_LINES =
      List.of(
          utf8("1,10,19.99,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,"), // #2 good
          utf8(
              "2,20,250.00,USD,PAID,2026-11-24T23:59:59.999Z,2026-11-25T00:00:00Z,2,\"gift, wrap\""), // #3 quoted comma
          utf8(
              "3,30,5.50,JPY,SHIPPED,2026-11-25T08:15:00Z,2026-11-25T09:00:00Z,3,\"said \"\"fast\"\"\""), // #4 doubled quotes
          utf8(
              "4,40,0.01,EUR,CANCELLED,2026-11-25T12:00:00Z,2026-11-25T12:30:00Z,7,Grüße aus Köln – 東京"), // #5 non-ASCII
          new byte[] {
            '5', ',', '5', '0', ',', (byte) 0xC3, (byte) 0x28, ',', 'E'
          }, // #6 invalid UTF-8
          utf8("x6,60,1.00,EUR,NEW,2026-11-25T12:00:00Z,2026-11-25T12:00:00Z,1,"), // #7 wrong type
          utf8("7,,1.00,EUR,NEW,2026-11-25T12:00:00Z,2026-11-25T12:00:00Z,1,"), // #8 missing
          // required
          utf8(
              "8,80,1.00,EUR,LOST,2026-11-25T12:00:00Z,2026-11-25T12:00:00Z,1,"), // #9 unknown enum
          utf8("9,90,12345678901.00,EUR,NEW,2026-11-25T12:00:00Z,2026-11-25T12:00:00Z,1,"), // #10
          // overflow
          utf8("10,100,1.005,EUR,NEW,2026-11-25T12:00:00Z,2026-11-25T12:00:00Z,1,"), // #11 would
          // round
          utf8(
              "11,110,1.00,EUR,NEW,2026-11-25T12:00:00Z,2026-11-25T12:00:00Z,1,\"unbalanced"), // #12
          utf8("12,120,1.00,EUR,NEW,2026-11-25T12:00:00Z,2026-11-25T12:00:00Z,1,,extra"), // #13 too
          // many
          utf8("13,130,1.00,EUR"), // #14 too few
          utf8(""), // #15 blank: filtered
          utf8("14,140,7.00,EUR,NEW,2026-11-26T00:00:00Z,2026-11-26T00:00:00Z,1,last")); // #16 good

  private static final Map<Integer, String> CSV_BAD_REASONS =
      new TreeMap<>(
          Map.of(
              6, "decode", 7, "schema", 8, "schema", 9, "schema", 10, "schema", 11, "schema", 12,
              "parse", 13, "parse", 14, "parse"));

  /** What one input file wrote into one partition: its files, named after it. */
  private String part(String partition, String input) {
    return partition + "/" + LakeNames.ofInputFile(dir.resolve(input).toString());
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @TempDir Path dir;

  private Path writeCsv(Path file, List<byte[]> lines) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(utf8(HEADER + CRLF));
    for (byte[] line : lines) {
      bytes.write(line);
      bytes.write(utf8(CRLF));
    }
    Files.createDirectories(file.getParent());
    return Files.write(file, bytes.toByteArray());
  }

  private int runCsv(Path lake, Path deadLetters, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "files-to-lake",
                "--input=" + dir.resolve("in") + "/*.csv",
                "--format=csv",
                "--schema=Order",
                "--output=" + lake,
                "--partitionField=created_at",
                "--deadLetter=file:" + deadLetters));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  /**
   * A file read as many small byte ranges in parallel gives the same lake, the same dead letters
   * (origins with the same line numbers, the same bytes) and the same accounting as read whole.
   */
  @Test
  void aFileReadAsByteRangesGivesTheSameLakeAndDeadLettersAsReadWhole() throws Exception {
    writeCsv(dir.resolve("in/orders.csv"), CSV_LINES);
    assertOk(runCsv(dir.resolve("whole"), dir.resolve("dlq-whole")));
    assertOk(runCsv(dir.resolve("split"), dir.resolve("dlq-split"), "--readSplitBytes=40"));
    assertThat(
        sorted(LakeFiles.readAvroByInput(dir.resolve("split"), Order.class)),
        equalTo(sorted(LakeFiles.readAvroByInput(dir.resolve("whole"), Order.class))));
    List<String> whole = originsAndBytes(dir.resolve("dlq-whole"));
    List<String> split = originsAndBytes(dir.resolve("dlq-split"));
    assertThat(split, equalTo(whole));
    assertThat(whole.size(), is(CSV_BAD_REASONS.size()));
    JsonNode report =
        new ObjectMapper().readTree(dir.resolve("split/_sluice/run-report.json").toFile());
    assertThat(report.get("counters").get("read").asLong(), is(15L));
    assertThat(report.get("accounting").get("balanced").asBoolean(), is(true));
  }

  private static Order order(
      long id,
      long customer,
      String amount,
      String currency,
      OrderStatus status,
      String created,
      String updated,
      long version,
      String note) {
    return Order.newBuilder()
        .setOrderId(id)
        .setCustomerId(customer)
        .setAmount(new BigDecimal(amount))
        .setCurrency(currency)
        .setStatus(status)
        .setCreatedAt(Instant.parse(created))
        .setUpdatedAt(Instant.parse(updated))
        .setVersion(version)
        .setNote(note)
        .build();
  }

  private static Map<String, List<Order>> sorted(Map<String, List<Order>> files) {
    Map<String, List<Order>> out = new TreeMap<>();
    files.forEach(
        (file, orders) -> {
          List<Order> copy = new ArrayList<>(orders);
          copy.sort(Comparator.comparing(Order::getOrderId));
          out.put(file, copy);
        });
    return out;
  }

  @Test
  void writesExactPartitionedAvroDeadLettersEveryBadLineAndAccountsForEveryRecord()
      throws Exception {
    writeCsv(dir.resolve("in/orders.csv"), CSV_LINES);
    Path lake = dir.resolve("lake");
    Path deadLetters = dir.resolve("dead-letters");

    assertOk(runCsv(lake, deadLetters));

    Map<String, List<Order>> expected = new LinkedHashMap<>();
    expected.put(
        part("dt=2026-11-24", "in/orders.csv"),
        List.of(
            order(
                1,
                10,
                "19.99",
                "EUR",
                OrderStatus.NEW,
                "2026-11-24T09:00:00Z",
                "2026-11-24T09:00:00Z",
                1,
                null),
            order(
                2,
                20,
                "250.00",
                "USD",
                OrderStatus.PAID,
                "2026-11-24T23:59:59.999Z",
                "2026-11-25T00:00:00Z",
                2,
                "gift, wrap")));
    expected.put(
        part("dt=2026-11-25", "in/orders.csv"),
        List.of(
            order(
                3,
                30,
                "5.50",
                "JPY",
                OrderStatus.SHIPPED,
                "2026-11-25T08:15:00Z",
                "2026-11-25T09:00:00Z",
                3,
                "said \"fast\""),
            order(
                4,
                40,
                "0.01",
                "EUR",
                OrderStatus.CANCELLED,
                "2026-11-25T12:00:00Z",
                "2026-11-25T12:30:00Z",
                7,
                "Grüße aus Köln – 東京")));
    expected.put(
        part("dt=2026-11-26", "in/orders.csv"),
        List.of(
            order(
                14,
                140,
                "7.00",
                "EUR",
                OrderStatus.NEW,
                "2026-11-26T00:00:00Z",
                "2026-11-26T00:00:00Z",
                1,
                "last")));
    assertThat(sorted(LakeFiles.readAvroByInput(lake, Order.class)), equalTo(expected));

    List<DeadLetter> dead = LakeFiles.readDeadLetters(deadLetters);
    String input = "file:" + dir.resolve("in/orders.csv");
    Map<Integer, String> reasons = new TreeMap<>();
    for (DeadLetter d : dead) {
      assertThat(d.getOrigin(), containsString(input + "#"));
      int line = Integer.parseInt(d.getOrigin().substring(d.getOrigin().indexOf('#') + 1));
      reasons.put(line, d.getReason());
      assertThat(
          "payload of line " + line,
          DeadLetterJson.bytes(d.getPayload()),
          equalTo(CSV_LINES.get(line - 2)));
      assertThat(d.getPipeline(), equalTo("files-to-lake"));
      assertThat(d.getStep(), equalTo("Parse"));
      assertThat(d.getSchemaName(), equalTo("Order"));
      assertThat(d.getSchemaVersion(), is(2));
    }
    assertThat(reasons, equalTo(CSV_BAD_REASONS));
    Map<String, String> messages =
        dead.stream().collect(Collectors.toMap(DeadLetter::getOrigin, DeadLetter::getErrorMessage));
    assertThat(messages.get(input + "#6"), containsString("not valid UTF-8"));
    assertThat(messages.get(input + "#7"), containsString("field 'order_id' expected a long"));
    assertThat(messages.get(input + "#8"), containsString("field 'customer_id' is required"));
    assertThat(messages.get(input + "#9"), containsString("'LOST' is not one of"));
    assertThat(messages.get(input + "#10"), containsString("overflows decimal(12,2)"));
    assertThat(messages.get(input + "#11"), containsString("would round it"));
    assertThat(messages.get(input + "#12"), containsString("unbalanced quotes"));
    assertThat(messages.get(input + "#13"), containsString("found 10"));
    assertThat(messages.get(input + "#14"), containsString("found 4"));

    JsonNode report = new ObjectMapper().readTree(lake.resolve("_sluice/run-report.json").toFile());
    JsonNode counters = report.get("counters");
    assertThat(counters.get("read").asLong(), is(15L));
    assertThat(counters.get("written").asLong(), is(5L));
    assertThat(counters.get("dead_lettered").asLong(), is(9L));
    assertThat(counters.get("filtered").asLong(), is(1L));
    assertThat(
        counters.get("read").asLong(),
        is(
            counters.get("written").asLong()
                + counters.get("dead_lettered").asLong()
                + counters.get("filtered").asLong()));
    assertThat(
        report.get("dead_lettered_by_reason").toString(),
        equalTo("{\"decode\":1,\"parse\":3,\"schema\":5}"));
    assertThat(report.get("dead_lettered_by_step").toString(), equalTo("{\"Parse\":9}"));
    assertThat(report.get("accounting").get("balanced").asBoolean(), is(true));
    // Lineage names where readers find the files, not the staging directory they were written to.
    String sinks = report.get("lineage").get("sinks").toString();
    assertThat(sinks, containsString(lake.toString()));
    assertThat(sinks, not(containsString("staging-")));
    assertThat(
        out.toString(StandardCharsets.UTF_8), containsString("Run summary: files-to-lake DONE"));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString("read = written + dead-lettered + filtered"));
  }

  @Test
  void rerunLeavesOutputIdenticalAndAChangedInputReplacesRatherThanDuplicates() throws Exception {
    writeCsv(dir.resolve("in/orders.csv"), CSV_LINES);
    Path lake = dir.resolve("lake");
    Path deadLetters = dir.resolve("dead-letters");
    assertThat(runCsv(lake, deadLetters), is(Launcher.OK));
    Map<String, List<Order>> first = sorted(LakeFiles.readAvroByInput(lake, Order.class));
    List<String> firstDead = origins(deadLetters);

    assertThat(runCsv(lake, deadLetters), is(Launcher.OK));
    assertThat(sorted(LakeFiles.readAvroByInput(lake, Order.class)), equalTo(first));
    assertThat(origins(deadLetters), equalTo(firstDead));

    // The same file corrected: the bad lines fixed or removed, order 1 updated.
    List<byte[]> corrected = new ArrayList<>();
    corrected.add(utf8("1,10,21.00,EUR,PAID,2026-11-24T09:00:00Z,2026-11-24T10:00:00Z,2,"));
    corrected.addAll(CSV_LINES.subList(1, 4));
    writeCsv(dir.resolve("in/orders.csv"), corrected);
    assertThat(runCsv(lake, deadLetters), is(Launcher.OK));
    Map<String, List<Order>> after = sorted(LakeFiles.readAvroByInput(lake, Order.class));
    assertThat(
        after.get(part("dt=2026-11-24", "in/orders.csv")).stream()
            .map(o -> o.getOrderId() + "@" + o.getVersion())
            .toList(),
        contains("1@2", "2@2"));
    assertThat(
        after.get(part("dt=2026-11-25", "in/orders.csv")).stream().map(Order::getOrderId).toList(),
        contains(3L, 4L));
    assertThat(origins(deadLetters), equalTo(List.of()));
  }

  /** Rows of the Parquet files {@code _SUCCESS} lists, by DuckDB, ordered by order id. */
  private static List<String> parquetRows(Path lake) throws Exception {
    JsonNode manifest = new ObjectMapper().readTree(lake.resolve("_SUCCESS").toFile());
    List<String> files = new ArrayList<>();
    manifest.get("files").forEach(f -> files.add("'" + lake.resolve(f.asText()) + "'"));
    List<String> rows = new ArrayList<>();
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT order_id, amount, typeof(amount), typeof(created_at), note FROM read_parquet(["
                    + String.join(",", files)
                    + "]) ORDER BY order_id")) {
      while (rs.next()) {
        rows.add(
            rs.getLong(1)
                + " "
                + rs.getBigDecimal(2)
                + " "
                + rs.getString(3)
                + " "
                + rs.getString(4)
                + " "
                + rs.getString(5));
      }
    }
    return rows;
  }

  /**
   * {@code --fileFormat=parquet}: the same lake as Parquet files that DuckDB reads with the
   * contract's types (decimals, instants in UTC); a rerun replaces them, a watching run is refused
   * naming the option.
   */
  @Test
  void writesTheLakeAsParquetThatEnginesReadWithItsTypes() throws Exception {
    writeCsv(dir.resolve("in/orders.csv"), CSV_LINES.subList(0, 4));
    Path lake = dir.resolve("lake");
    assertOk(runCsv(lake, dir.resolve("dlq"), "--fileFormat=parquet"));
    List<String> rows = parquetRows(lake);
    assertThat(
        rows,
        contains(
            "1 19.99 DECIMAL(12,2) TIMESTAMP WITH TIME ZONE null",
            "2 250.00 DECIMAL(12,2) TIMESTAMP WITH TIME ZONE gift, wrap",
            "3 5.50 DECIMAL(12,2) TIMESTAMP WITH TIME ZONE said \"fast\"",
            "4 0.01 DECIMAL(12,2) TIMESTAMP WITH TIME ZONE Grüße aus Köln – 東京"));
    try (var parquet = Files.walk(lake)) {
      assertThat(parquet.filter(f -> f.toString().endsWith(".parquet")).count(), is(2L));
    }

    assertOk(runCsv(lake, dir.resolve("dlq"), "--fileFormat=parquet"));
    assertThat("a rerun replaces its files", parquetRows(lake), equalTo(rows));
    try (var parquet = Files.walk(lake)) {
      assertThat(parquet.filter(f -> f.toString().endsWith(".parquet")).count(), is(2L));
    }

    err.reset();
    assertThat(
        runCsv(lake, dir.resolve("dlq"), "--fileFormat=parquet", "--watch=PT1S"),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--fileFormat=parquet is written by bounded runs into a local lake"));
  }

  @Test
  void readsJsonLinesIntoTheSameSchema() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.write(
        in.resolve("orders.jsonl"),
        utf8(
            "{\"order_id\":21,\"customer_id\":1,\"amount\":0.10,\"currency\":\"EUR\",\"status\":\"NEW\","
                + "\"created_at\":\"2026-11-25T10:15:30Z\",\"updated_at\":\"2026-11-25T10:15:30Z\",\"version\":1,\"note\":\"ça va\"}\n"
                + "{\"order_id\":22,\"customer_id\":1,\"amount\":1,\"currency\":\"EUR\",\"status\":\"NEW\","
                + "\"created_at\":\"2026-11-25T10:15:30Z\",\"updated_at\":\"2026-11-25T10:15:30Z\",\"version\":1,\"colour\":\"red\"}\n"
                + "{\"order_id\":23,\n"));
    Path lake = dir.resolve("lake");
    assertThat(
        run(
            "files-to-lake",
            "--input=" + in + "/*.jsonl",
            "--format=jsonl",
            "--output=" + lake,
            "--deadLetter=file:" + dir.resolve("dlq")),
        is(Launcher.OK));
    Map<String, List<Order>> files = LakeFiles.readAvroByInput(lake, Order.class);
    assertThat(files, not(anEmptyMap()));
    assertThat(files, hasKey(part("dt=2026-11-25", "in/orders.jsonl")));
    assertThat(
        files.get(part("dt=2026-11-25", "in/orders.jsonl")),
        contains(
            order(
                21,
                1,
                "0.10",
                "EUR",
                OrderStatus.NEW,
                "2026-11-25T10:15:30Z",
                "2026-11-25T10:15:30Z",
                1,
                "ça va")));
    assertThat(
        LakeFiles.readDeadLetters(dir.resolve("dlq")).stream()
            .sorted(Comparator.comparing(DeadLetter::getOrigin))
            .map(d -> d.getOrigin().substring(d.getOrigin().indexOf('#')) + " " + d.getReason())
            .toList(),
        contains("#2 schema", "#3 parse"));
  }

  /** Each dead letter as its origin and its payload in hex, sorted. */
  private static List<String> originsAndBytes(Path deadLetters) {
    return LakeFiles.readDeadLetters(deadLetters).stream()
        .map(
            d ->
                d.getOrigin()
                    + " "
                    + HexFormat.of().formatHex(DeadLetterJson.bytes(d.getPayload())))
        .sorted()
        .toList();
  }

  private static List<String> origins(Path deadLetters) {
    return LakeFiles.readDeadLetters(deadLetters).stream()
        .map(DeadLetter::getOrigin)
        .sorted()
        .toList();
  }

  @Test
  void recordsFailingAnErrorRuleAreDeadLetteredWithTheRuleAndWarnRulesOnlyCount() throws Exception {
    List<byte[]> lines =
        List.of(
            utf8("1,10,19.99,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,"),
            utf8("2,20,-5.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,refund?"),
            utf8("3,30,7.00,GBP,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,"));
    writeCsv(dir.resolve("in/orders.csv"), lines);
    Path rules =
        Files.writeString(
            dir.resolve("orders-rules.yaml"),
            "dataset: orders\n"
                + "record_rules:\n"
                + "  - {rule: range, field: amount, min: 0, severity: error}\n"
                + "  - {rule: accepted_values, field: currency, values: [EUR, USD], severity: warn}\n");
    Path lake = dir.resolve("lake");
    assertOk(
        run(
            "files-to-lake",
            "--input=" + dir.resolve("in") + "/*.csv",
            "--output=" + lake,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--rules=" + rules));
    assertThat(
        LakeFiles.readAvroByInput(lake, Order.class).values().stream()
            .flatMap(List::stream)
            .map(Order::getOrderId)
            .sorted()
            .toList(),
        contains(1L, 3L));
    List<DeadLetter> dead = LakeFiles.readDeadLetters(dir.resolve("dlq"));
    assertThat(dead.size(), is(1));
    DeadLetter d = dead.get(0);
    assertThat(d.getOrigin(), equalTo("file:" + dir.resolve("in/orders.csv") + "#3"));
    assertThat(
        d.getReason() + " " + d.getStep() + " " + d.getRule(), equalTo("rule Rules range(amount)"));
    assertThat(d.getErrorMessage(), containsString("amount = -5.00 is below 0"));
    assertThat(DeadLetterJson.bytes(d.getPayload()), equalTo(lines.get(1)));
    JsonNode report = new ObjectMapper().readTree(lake.resolve("_sluice/run-report.json").toFile());
    assertThat(
        report.get("counters").toString(),
        equalTo("{\"read\":3,\"written\":2,\"dead_lettered\":1,\"filtered\":0}"));
    assertThat(report.get("rules").get("accepted_values(currency).failed").asLong(), is(1L));
    assertThat(report.get("rules").get("range(amount).evaluated").asLong(), is(3L));

    Files.writeString(
        rules, "dataset: orders\nrecord_rules:\n  - {rule: range, field: amonut, min: 0}\n");
    assertThat(
        run(
            "files-to-lake",
            "--input=" + dir.resolve("in") + "/*.csv",
            "--output=" + lake,
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--rules=" + rules),
        is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(rules + " line 3: field 'amonut' is not in schema Order"));
  }
}

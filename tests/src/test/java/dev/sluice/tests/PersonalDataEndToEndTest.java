package dev.sluice.tests;

import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.Customer;
import dev.sluice.schemas.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Personal data under the Customer contract (v2: email tokenized, name redacted, phone hashed), on
 * a real broker and database: the table, the lake, the dead letters and what the launcher prints
 * hold no clear value; tokens are deterministic and reversible with the keyset only; a sealed dead
 * letter lands after the fix when replayed with the keyset; and a run as the least-privileged
 * loader role loads but cannot change the schema.
 */
@ExtendWith(SharedSandbox.class)
class PersonalDataEndToEndTest extends LauncherCalls {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Every clear personal value the inputs hold: none may be stored or printed. */
  private static final List<String> CLEAR =
      List.of(
          "alice@example.com",
          "shared@example.com",
          "erin@example.com",
          "frank@example.com",
          "Alice Martin",
          "Bob Stone",
          "Carol Shared",
          "Erin Secret",
          "Frank Hidden",
          "+33 6 12 34 56 78",
          "+34 600 000 000");

  @TempDir Path dir;
  private Path keyset;

  private static byte[] customer(long id, String name, String email, String country, String phone) {
    return utf8(
        "{\"customer_id\":"
            + id
            + ",\"name\":\""
            + name
            + "\",\"email\":"
            + (email == null ? "null" : "\"" + email + "\"")
            + ",\"country\":\""
            + country
            + "\",\"created_at\":\"2026-11-25T10:00:00Z\",\"updated_at\":\"2026-11-25T10:00:00Z\""
            + ",\"version\":1"
            + (phone == null ? "" : ",\"phone\":\"" + phone + "\"")
            + "}");
  }

  /** {@code <name>/customers.csv}: a header, Alice, and {@code more} lines. */
  private Path customersCsv(String name, String... more) throws Exception {
    Path input = Files.createDirectories(dir.resolve(name)).resolve("customers.csv");
    return Files.writeString(
        input,
        "customer_id,name,email,country,created_at,updated_at,version,phone\n"
            + "1,Alice Martin,alice@example.com,FR,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,"
            + "+33 6 12 34 56 78\n"
            + String.join("", more));
  }

  @BeforeEach
  void makeAKeyset() {
    keyset = dir.resolve("secrets/pii-keyset.json");
    assertOk(run("pii-keyset", "--output=" + keyset));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("Wrote a new PII keyset"));
  }

  private Path rules(String countries) throws Exception {
    return Files.writeString(
        dir.resolve("rules-" + countries.replace(", ", "-") + ".yaml"),
        "dataset: customers\nrecord_rules:\n"
            + "  - {rule: accepted_values, field: country, values: ["
            + countries
            + "], severity: error}\n");
  }

  private List<String> kafkaToJdbc(String topic, String table, String dlq, String user) {
    return new ArrayList<>(
        List.of(
            "--pipeline=kafka-to-jdbc",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=" + topic,
            "--consumerGroup=" + topic,
            "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
            "--jdbcUser=" + user,
            "--table=" + table,
            "--schema=Customer",
            "--deadLetter=jdbc:" + dlq,
            "--runReport=" + dir.resolve("report.json"),
            "--piiKeyset=file:" + keyset));
  }

  private int load(List<String> options, String... more) {
    List<String> args = new ArrayList<>(List.of("kafka-to-jdbc", "--bounded"));
    args.addAll(options.subList(1, options.size()));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  private String printed() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  private static void assertNoClearValue(String where, String text) {
    for (String clear : CLEAR) {
      assertThat(where + " holds '" + clear + "'", text, not(containsString(clear)));
    }
  }

  @Test
  void kafkaToJdbcStoresTokensHashesAndMasksAndSealsItsDeadLetters() throws Exception {
    String topic = SharedSandbox.newTopic("pii-customers", 1);
    SharedSandbox.produce(
        topic,
        0,
        customer(1, "Alice Martin", "alice@example.com", "FR", "+33 6 12 34 56 78"),
        customer(2, "Bob Stone", "shared@example.com", "DE", null),
        customer(3, "Carol Shared", "shared@example.com", "FR", "+33 6 12 34 56 78"),
        // Fails the country rule: a sealed dead letter, replayed once the rule is fixed.
        customer(4, "Erin Secret", "erin@example.com", "ES", "+34 600 000 000"),
        // Not JSON: its personal fields cannot be located, so no preview at all.
        utf8("{\"customer_id\":5,\"name\":\"Frank Hidden\",\"email\":frank@example.com}"));
    String table = SharedSandbox.newTableLike("customers", "customers_pii");
    String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_pii");
    List<String> options = kafkaToJdbc(topic, table, dlq, "postgres");

    // Without the keyset the contract's personal data could not be protected: refused up front.
    List<String> withoutKeys = new ArrayList<>(options.subList(0, options.size() - 1));
    assertThat(load(withoutKeys, "--rules=" + rules("FR, DE")), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "Schema Customer v2 marks personal data (name=redact,email=token,phone=hash):"
                + " --piiKeyset=file:<path>|env:<NAME> is required"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(0L));

    out.reset();
    err.reset();
    assertOk(load(options, "--rules=" + rules("FR, DE")));
    String loadPrinted = printed();
    assertBalanced(dir.resolve("report.json"));
    assertThat(
        SharedSandbox.text("SELECT string_agg(customer_id::text, ',' ORDER BY 1) FROM " + table),
        equalTo("1,2,3"));
    String rows =
        SharedSandbox.text(
            "SELECT string_agg(concat_ws('|', customer_id, name, email, phone), ';'"
                + " ORDER BY customer_id) FROM "
                + table);
    assertNoClearValue("the table", rows);
    String[] email = new String[4];
    String[] phone = new String[4];
    for (int id = 1; id <= 3; id++) {
      assertThat(
          SharedSandbox.text("SELECT name FROM " + table + " WHERE customer_id = " + id),
          equalTo("***"));
      email[id] = SharedSandbox.text("SELECT email FROM " + table + " WHERE customer_id = " + id);
      phone[id] =
          SharedSandbox.text(
              "SELECT coalesce(phone, '') FROM " + table + " WHERE customer_id = " + id);
      assertThat(email[id], startsWith("tok_"));
    }
    // Equal values give equal tokens and hashes (joins still work); different ones do not.
    assertThat(email[2], equalTo(email[3]));
    assertThat(email[1], not(equalTo(email[2])));
    assertThat(phone[1], matchesPattern("[0-9a-f]{64}"));
    assertThat(phone[3], equalTo(phone[1]));
    assertThat(phone[2], equalTo(""));

    // The keyset recovers a token; without the right keyset nothing is recovered.
    out.reset();
    assertOk(run("detokenize", "--piiKeyset=file:" + keyset, email[1], email[2]));
    assertThat(
        out.toString(StandardCharsets.UTF_8), equalTo("alice@example.com\nshared@example.com\n"));
    Path other = dir.resolve("secrets/other.json");
    assertOk(run("pii-keyset", "--output=" + other));
    err.reset();
    assertThat(run("detokenize", "--piiKeyset=file:" + other, email[1]), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("was not made with any key of this keyset"));
    // A keyset is never overwritten.
    assertThat(run("pii-keyset", "--output=" + keyset), is(Launcher.USAGE));

    // The report says which policy applied to which field.
    JsonNode report = JSON.readTree(dir.resolve("report.json").toFile());
    assertThat(
        report.get("personal_data").toString(),
        equalTo("{\"name\":\"redact\",\"email\":\"token\",\"phone\":\"hash\"}"));

    // Two dead letters, sealed: no clear value in any column; the preview is redacted where the
    // fields can be located, withheld where they cannot.
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(reason || ':' || payload_encryption, ',' ORDER BY origin) FROM "
                + dlq),
        equalTo("rule:tink-aes-siv,parse:tink-aes-siv"));
    String stored =
        SharedSandbox.text(
            "SELECT string_agg(concat_ws('|', encode(payload, 'escape'), payload_preview,"
                + " error_message, stack_trace), ';') FROM "
                + dlq);
    assertNoClearValue("the dead letters", stored);
    assertThat(
        SharedSandbox.text("SELECT payload_preview FROM " + dlq + " WHERE reason = 'rule'"),
        equalTo(
            "{\"customer_id\":4,\"name\":\"***\",\"email\":\"***\",\"country\":\"ES\","
                + "\"created_at\":\"2026-11-25T10:00:00Z\",\"updated_at\":\"2026-11-25T10:00:00Z\","
                + "\"version\":1,\"phone\":\"***\"}"));
    assertThat(
        SharedSandbox.text("SELECT payload_preview FROM " + dlq + " WHERE reason = 'parse'"),
        containsString("[payload withheld"));
    assertNoClearValue("what the launcher printed", loadPrinted);

    // The rule is fixed; a replay with the keyset lands the sealed record, tokenized like the
    // others.
    List<String> replay = new ArrayList<>(List.of("replay", "--from=jdbc:" + dlq, "--reason=rule"));
    replay.addAll(options);
    replay.add("--rules=" + rules("FR, DE, ES"));
    out.reset();
    err.reset();
    assertOk(run(replay.toArray(String[]::new)));
    assertNoClearValue("what the replay printed", printed());
    assertThat(
        SharedSandbox.text("SELECT email FROM " + table + " WHERE customer_id = 4"),
        startsWith("tok_"));
    out.reset();
    assertOk(
        run(
            "detokenize",
            "--piiKeyset=file:" + keyset,
            SharedSandbox.text("SELECT email FROM " + table + " WHERE customer_id = 4")));
    assertThat(out.toString(StandardCharsets.UTF_8), equalTo("erin@example.com\n"));
  }

  @Test
  void filesToLakeWritesNoClearValueAndItsManifestNamesThePolicies() throws Exception {
    Path input =
        customersCsv(
            "in",
            "2,Bob Stone,shared@example.com,DE,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,\n"
                + "3,Carol Shared,shared@example.com,FR,2026-11-25T10:00:00Z,not-a-time,1,\n");
    Path lake = dir.resolve("lake");
    Path dlq = dir.resolve("dlq");
    out.reset();
    err.reset();
    assertOk(
        run(
            "files-to-lake",
            "--input=" + input,
            "--format=csv",
            "--schema=Customer",
            "--output=" + lake,
            "--deadLetter=file:" + dlq,
            "--piiKeyset=file:" + keyset));
    String loadPrinted = printed();
    List<Customer> customers = new ArrayList<>();
    LakeFiles.readAvro(lake, Customer.class).values().forEach(customers::addAll);
    customers.sort((a, b) -> Long.compare(a.getCustomerId(), b.getCustomerId()));
    assertThat(customers.size(), is(2));
    assertNoClearValue("the lake", customers.toString());
    assertThat(customers.get(0).getName(), equalTo("***"));
    assertThat(customers.get(0).getEmail().toString(), startsWith("tok_"));
    assertThat(customers.get(0).getPhone().toString(), matchesPattern("[0-9a-f]{64}"));
    assertThat(customers.get(1).getPhone(), is((CharSequence) null));
    // The same key as kafka-to-jdbc's would give: the token is a function of value and keyset.
    out.reset();
    assertOk(
        run("detokenize", "--piiKeyset=file:" + keyset, customers.get(1).getEmail().toString()));
    assertThat(out.toString(StandardCharsets.UTF_8), equalTo("shared@example.com\n"));

    JsonNode manifest = JSON.readTree(lake.resolve("_SUCCESS").toFile());
    assertThat(
        manifest.get("personal_data").toString(),
        equalTo("{\"name\":\"redact\",\"email\":\"token\",\"phone\":\"hash\"}"));

    // The CSV line that failed is sealed, its preview masked by the header's column names.
    List<DeadLetter> letters = LakeFiles.readDeadLetters(dlq);
    assertThat(letters.size(), is(1));
    DeadLetter letter = letters.get(0);
    assertThat(letter.getPayloadEncryption().toString(), equalTo("tink-aes-siv"));
    assertThat(
        letter.getPayloadPreview().toString(),
        equalTo("3,***,***,FR,2026-11-25T10:00:00Z,not-a-time,1,"));
    StringBuilder all = new StringBuilder();
    for (Path file : LakeFiles.files(dlq, ".jsonl")) {
      all.append(Files.readString(file));
    }
    assertNoClearValue("the dead-letter files", all.toString());
    assertNoClearValue("what the launcher printed", loadPrinted);
  }

  /**
   * Into an Iceberg table: no clear value in its rows, and its snapshot summary says which policy
   * applied to which field. A rotated keyset still recovers the tokens made before the rotation.
   */
  @Test
  void anIcebergSnapshotNamesThePoliciesAndARotatedKeysetStillDetokenizes() throws Exception {
    Path input = customersCsv("in-iceberg");
    Path warehouse = dir.resolve("warehouse");
    assertOk(
        run(
            "files-to-lake",
            "--input=" + input,
            "--format=csv",
            "--schema=Customer",
            "--output=iceberg:crm.customers",
            "--warehouse=" + warehouse,
            "--deadLetter=file:" + dir.resolve("dlq-iceberg"),
            "--piiKeyset=file:" + keyset));
    List<String> rows =
        IcebergReads.rows(
            warehouse,
            "crm.customers",
            null,
            r -> r.getField("name") + "|" + r.getField("email") + "|" + r.getField("phone"));
    assertThat(rows.size(), is(1));
    assertNoClearValue("the Iceberg table", rows.toString());
    Map<String, String> summary =
        IcebergReads.catalog(warehouse)
            .using(
                c ->
                    c.loadTable(org.apache.iceberg.catalog.TableIdentifier.parse("crm.customers"))
                        .currentSnapshot()
                        .summary());
    assertThat(summary.get("sluice.pii"), equalTo("name=redact,email=token,phone=hash"));

    String token = rows.get(0).split("\\|")[1];
    Path rotated = dir.resolve("secrets/rotated.json");
    out.reset();
    assertOk(run("pii-keyset", "--rotate=file:" + keyset, "--output=" + rotated));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("2 key(s) of each kind"));
    out.reset();
    assertOk(run("detokenize", "--piiKeyset=file:" + rotated, token));
    assertThat(out.toString(StandardCharsets.UTF_8), equalTo("alice@example.com\n"));
  }

  /**
   * A Kafka dead-letter topic, the run history that {@code status} prints and the lineage hold no
   * clear value; the lineage says which policy made which column.
   */
  @Test
  void kafkaDeadLettersStatusAndLineageHoldNoClearValue() throws Exception {
    String topic = SharedSandbox.newTopic("pii-kafka-dlq", 1);
    SharedSandbox.produce(
        topic,
        0,
        customer(1, "Alice Martin", "alice@example.com", "FR", "+33 6 12 34 56 78"),
        customer(4, "Erin Secret", "erin@example.com", "ES", "+34 600 000 000"));
    String table = SharedSandbox.newTableLike("customers", "customers_pii_kafka");
    String dlq = SharedSandbox.newTopic("pii-dlq", 1);
    List<String> options = kafkaToJdbc(topic, table, "unused", "postgres");
    options.removeIf(o -> o.startsWith("--deadLetter="));
    Path lineage = dir.resolve("lineage");
    Path history = dir.resolve("history");
    assertOk(
        load(
            options,
            "--deadLetter=kafka:" + dlq,
            "--rules=" + rules("FR, DE"),
            "--lineage=file:" + lineage,
            "--runHistory=" + history));
    List<byte[]> values = new ArrayList<>();
    for (var record : DeadLetterSinksEndToEndTest.consumeAll(dlq, 1)) {
      values.add(record.value());
      DeadLetter letter =
          dev.sluice.transforms.deadletter.DeadLetterBinary.fromBytes(record.value());
      assertThat(letter.getPayloadEncryption().toString(), equalTo("tink-aes-siv"));
      assertThat(letter.getPayloadPreview().toString(), containsString("\"email\":\"***\""));
    }
    assertThat(values.size(), is(1));
    assertNoClearValue(
        "the dead-letter topic", new String(values.get(0), StandardCharsets.ISO_8859_1));

    out.reset();
    assertOk(run("status", "--runHistory=" + history));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("kafka-to-jdbc"));
    assertNoClearValue("status", printed());
    StringBuilder stored = new StringBuilder();
    for (Path file : LakeFiles.files(history, "")) {
      if (Files.isRegularFile(file)) {
        stored.append(Files.readString(file));
      }
    }
    assertThat(stored.length() > 0, is(true));
    assertNoClearValue("the run history", stored.toString());

    String events = Files.readString(lineage.resolve("openlineage.jsonl"));
    assertNoClearValue("the lineage", events);
    List<String> lines = Files.readAllLines(lineage.resolve("openlineage.jsonl"));
    JsonNode complete = JSON.readTree(lines.get(lines.size() - 1));
    JsonNode email =
        complete
            .get("outputs")
            .get(0)
            .get("facets")
            .get("columnLineage")
            .get("fields")
            .get("email")
            .get("inputFields")
            .get(0);
    assertThat(email.get("name").asText(), equalTo(topic));
    assertThat(email.get("field").asText(), equalTo("email"));
    JsonNode masking = email.get("transformations").get(0);
    assertThat(masking.get("masking").asBoolean(), is(true));
    assertThat(masking.get("description").asText(), startsWith("sluice.pii token: tokenized"));
  }

  /**
   * The migrations' {@code sluice_loader} role loads (rows and dead letters) but changes no schema;
   * {@code sluice_reader} only reads.
   */
  @Test
  void theLoaderRoleLoadsButCannotCreateOrDropTables() throws Exception {
    SharedSandbox.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'etl_loader') THEN"
            + " CREATE ROLE etl_loader LOGIN IN ROLE sluice_loader; END IF;"
            + " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bi_reader') THEN"
            + " CREATE ROLE bi_reader LOGIN IN ROLE sluice_reader; END IF; END $$");
    String topic = SharedSandbox.newTopic("pii-loader", 1);
    SharedSandbox.produce(
        topic,
        0,
        customer(1, "Alice Martin", "alice@example.com", "FR", null),
        utf8("{\"customer_id\":\"x\"}"));
    String table = SharedSandbox.newTableLike("customers", "customers_loader");
    String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_loader");
    assertOk(load(kafkaToJdbc(topic, table, dlq, "etl_loader")));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + dlq), is(1L));

    String url = SharedSandbox.jdbcUrl();
    for (String ddl :
        List.of("DROP TABLE " + table, "CREATE TABLE loader_made (a int)", "TRUNCATE " + table)) {
      SQLException refused =
          assertThrows(SQLException.class, () -> as("etl_loader", url, ddl), ddl);
      assertThat(ddl, refused.getSQLState(), equalTo("42501"));
    }
    SQLException readOnly =
        assertThrows(
            SQLException.class,
            () -> as("bi_reader", url, "DELETE FROM " + table),
            "a reader deletes");
    assertThat(readOnly.getSQLState(), equalTo("42501"));
    as("bi_reader", url, "SELECT count(*) FROM " + table);
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
  }

  private static void as(String user, String url, String sql) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    try (Connection c = DriverManager.getConnection(url, properties);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}

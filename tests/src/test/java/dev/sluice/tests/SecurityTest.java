package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.sluice.runners.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile option value must not achieve: credentials in a URL, SQL in a query, secrets read
 * from anywhere and sent to any server, system catalogs read through a rule, a password sent in
 * cleartext.
 */
@ExtendWith(SharedSandbox.class)
class SecurityTest extends LauncherCalls {
  private static final String CANARY = "canary-" + UUID.randomUUID();

  @TempDir Path dir;

  private String[] kafkaToJdbc(String topic, String table, String... extra) {
    return KafkaToJdbcArgs.with(
        KafkaToJdbcArgs.of(topic, table, extra),
        "--deadLetter=file:" + dir.resolve("dlq"),
        "--bounded");
  }

  private String printed() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  private static String everythingUnder(Path root) throws Exception {
    if (!Files.exists(root)) {
      return "";
    }
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        all.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
      }
    }
    return all.toString();
  }

  @Test
  void aPasswordInTheUrlIsRefusedAndNeverWrittenAnywhere() throws Exception {
    String url = SharedSandbox.jdbcUrl() + "?user=postgres&password=" + CANARY;
    assertThat(run(kafkaToJdbc("any", "orders", "--jdbcUrl=" + url)), is(Launcher.USAGE));
    assertThat(printed(), containsString("--jdbcUrl must not carry a password"));
    assertThat(printed(), not(containsString(CANARY)));

    Path templates = dir.resolve("templates");
    int code =
        run(
            "template",
            "--output=" + templates,
            "--pipeline=kafka-to-jdbc",
            "--",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=t",
            "--jdbcUrl=" + url,
            "--table=orders",
            "--deadLetter=file:" + dir.resolve("dlq"));
    assertThat(code, is(Launcher.USAGE));
    assertThat(printed(), not(containsString(CANARY)));
    assertThat(everythingUnder(templates), not(containsString(CANARY)));

    out.reset();
    err.reset();
    assertThat(
        run(kafkaToJdbc("any", "orders", "--jdbcUrl=postgresql://u:" + CANARY + "@h/db")),
        is(Launcher.USAGE));
    assertThat(printed(), containsString("--jdbcUrl must start with jdbc:"));
    assertThat(printed(), not(containsString(CANARY)));
  }

  /**
   * {@code --query} is one query, refused otherwise before it is sent; and an export's reads are
   * READ ONLY, so a data-modifying query that is one statement still cannot write.
   */
  @Test
  void aQueryCannotRunAnotherStatementOrWrite() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS victim");
    SharedSandbox.execute(
        "CREATE TABLE victim (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL)");
    SharedSandbox.execute("INSERT INTO victim VALUES (1, now()), (2, now())");
    List<String> common =
        List.of(
            "jdbc-to-lake",
            "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
            "--jdbcUser=postgres",
            "--watermarkColumn=updated_at",
            "--exportName=victim-" + CANARY,
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq"));

    List<String> injected = new ArrayList<>(common);
    injected.add("--query=select * from victim) s; drop table victim; --");
    assertThat(run(injected.toArray(String[]::new)), is(Launcher.USAGE));
    assertThat(printed(), containsString("--query must be one query"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM victim"), is(2L));

    // One statement, but it calls a function that deletes.
    SharedSandbox.execute(
        "CREATE OR REPLACE FUNCTION wipe_victim() RETURNS bigint LANGUAGE sql VOLATILE AS"
            + " 'DELETE FROM victim; SELECT 0::bigint'");
    List<String> writing = new ArrayList<>(common);
    writing.add("--query=select id, updated_at, wipe_victim() AS w from victim");
    assertThat(run(writing.toArray(String[]::new)), is(Launcher.USAGE));
    assertThat(printed(), containsString("read-only transaction"));
    assertThat(SharedSandbox.count("SELECT count(*) FROM victim"), is(2L));
  }

  @Test
  void secretReferencesAreConfined() throws Exception {
    String topic = SharedSandbox.newTopic("confined", 1);
    assertThat(
        run(kafkaToJdbc(topic, "orders", "--jdbcPassword=file:/etc/passwd")), is(Launcher.USAGE));
    assertThat(printed(), containsString("outside the directories secrets may be read from"));
    assertThat(run(kafkaToJdbc(topic, "orders", "--jdbcPassword=env:HOME")), is(Launcher.USAGE));
    assertThat(printed(), containsString("environment variable HOME is not one secrets may be"));
  }

  /**
   * A Kafka properties file is a credentials file: one outside the secret directories is refused
   * before any broker is contacted, so a hostile {@code --bootstrapServers} (here a socket that
   * records what it receives) gets nothing, and the file's content is never printed.
   */
  @Test
  void aKafkaPropertiesFileIsConfinedLikeASecret() throws Exception {
    Path outside = Files.createTempDirectory(Path.of("/tmp"), "sluice-client");
    Path file =
        Files.writeString(
            outside.resolve("client.properties"),
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                + "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
                + " required username=\"svc\" password=\""
                + CANARY
                + "\";\n");
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    Thread listener;
    try (ServerSocket fakeBroker = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      listener =
          new Thread(
              () -> {
                try (Socket client = fakeBroker.accept()) {
                  client.getInputStream().transferTo(captured);
                } catch (IOException closed) {
                  // The test closed the socket: nothing connected.
                }
              });
      listener.setDaemon(true);
      listener.start();
      String broker = "127.0.0.1:" + fakeBroker.getLocalPort();
      assertThat(
          run(
              kafkaToJdbc(
                  "orders", "orders", "--bootstrapServers=" + broker, "--kafkaProperties=" + file)),
          is(Launcher.USAGE));
      assertThat(printed(), containsString("--kafkaProperties"));
      assertThat(printed(), containsString("outside the directories secrets may be read from"));
      assertThat(printed(), not(containsString(CANARY)));
    } finally {
      Files.delete(file);
      Files.delete(outside);
    }
    listener.join(5_000);
    assertThat(captured.size(), is(0));
  }

  @Test
  void relationshipsRulesCannotReadTheSystemCatalogs() throws Exception {
    String topic = SharedSandbox.newTopic("catalog", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_catalog");
    for (String target :
        List.of("pg_authid", "pg_catalog.pg_authid", "information_schema.tables")) {
      Path rules =
          Files.writeString(
              dir.resolve("rules.yaml"),
              "dataset: orders\ndataset_rules:\n"
                  + "  - {rule: relationships, field: customer_id, to: "
                  + target
                  + ", column: oid}\n");
      err.reset();
      assertThat(run(kafkaToJdbc(topic, table, "--rules=" + rules)), is(Launcher.USAGE));
      assertThat(target, printed(), containsString("not of the system catalogs"));
    }
  }

  /**
   * A server that asks for the password in cleartext (pg_hba.conf method {@code password}) gets
   * nothing unless the run says {@code --allowCleartextPassword}.
   */
  @Test
  void aPasswordIsNotSentInCleartextUnlessAllowed() throws Exception {
    String hba = SharedSandbox.text("SHOW hba_file");
    String original = Files.readString(Path.of(hba));
    SharedSandbox.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cleartext_user') THEN"
            + " CREATE ROLE cleartext_user LOGIN; END IF; END $$");
    // A throwaway value made for this run, known only to this test and its role.
    String generated = "pw-" + UUID.randomUUID();
    SharedSandbox.execute("ALTER ROLE cleartext_user PASSWORD '" + generated + "'");
    String table = SharedSandbox.newTableLike("orders", "orders_cleartext");
    SharedSandbox.execute("GRANT ALL ON " + table + " TO cleartext_user");
    Path secret = Files.writeString(dir.resolve("pg-password"), generated);
    String topic = SharedSandbox.newTopic("cleartext", 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"));
    try {
      Files.writeString(
          Path.of(hba),
          "host all cleartext_user 127.0.0.1/32 password\n"
              + "host all cleartext_user ::1/128 password\n"
              + original);
      SharedSandbox.execute("SELECT pg_reload_conf()");
      String[] args =
          kafkaToJdbc(topic, table, "--jdbcUser=cleartext_user", "--jdbcPassword=file:" + secret);
      assertThat(run(args), is(Launcher.USAGE));
      assertThat(printed(), containsString("asks for the password in cleartext"));
      assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(0L));

      List<String> allowed = new ArrayList<>(Arrays.asList(args));
      allowed.add("--allowCleartextPassword");
      assertOk(run(allowed.toArray(String[]::new)));
      assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(1L));
    } finally {
      Files.writeString(Path.of(hba), original);
      SharedSandbox.execute("SELECT pg_reload_conf()");
    }
  }
}

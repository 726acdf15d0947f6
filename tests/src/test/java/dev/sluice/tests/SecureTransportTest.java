package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.sluice.runners.Launcher;
import dev.sluice.runners.sandbox.Certificates;
import dev.sluice.runners.sandbox.KafkaBroker;
import dev.sluice.runners.sandbox.Postgres;
import dev.sluice.runners.sandbox.Sandbox;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encrypted, authenticated connections, on what {@code sluice sandbox --secure} starts: PostgreSQL
 * with a certificate signed by the sandbox's own CA (the JDK's keytool), reached with {@code
 * sslmode=verify-full}; Kafka on a SASL_SSL listener (SCRAM-SHA-512, TLS with a trust store).
 */
@ExtendWith(SharedSandbox.class)
class SecureTransportTest extends LauncherCalls {
  @TempDir static Path dir;

  /** What {@code sluice sandbox --secure} starts. */
  private static Sandbox secure;

  private static Postgres server;
  private static KafkaBroker broker;
  private static Certificates certificates;

  @BeforeAll
  static void startTheSecureSandbox() throws Exception {
    secure = Sandbox.startSecure(dir.resolve("secure"));
    server = secure.postgres();
    broker = secure.kafka();
    certificates = Certificates.in(dir.resolve("secure/secrets/tls"), "unused: made already");
  }

  @AfterAll
  static void stop() {
    if (secure != null) {
      secure.close();
    }
  }

  /** The secure sandbox's generated Kafka password, as its JAAS file holds it. */
  private static String password() throws Exception {
    String jaas = Files.readString(dir.resolve("secure/secrets/kafka-jaas.conf"));
    return jaas.replaceAll("(?s).*password=\"([^\"]*)\".*", "$1");
  }

  /** The sandbox's client settings with another password. */
  private static Path withPassword(String password) throws Exception {
    Path jaas =
        Files.writeString(
            dir.resolve("bad.jaas"),
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"sluice\""
                + " password=\""
                + password
                + "\";");
    return Files.writeString(
        dir.resolve("bad.properties"),
        Files.readString(secure.kafkaProperties())
            .replaceAll("sasl.jaas.config=.*", "sasl.jaas.config=file:" + jaas));
  }

  @Test
  void kafkaToJdbcReadsFromASaslSslListenerAndAWrongPasswordFailsNamingTheListener()
      throws Exception {
    String topic = "tls-orders-" + UUID.randomUUID().toString().substring(0, 8);
    broker.createTopic(topic, 1);
    SharedSandbox.produceTo(
        broker.bootstrapServers(), topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    String table = SharedSandbox.newTableLike("orders", "orders_sasl_ssl");
    assertOk(run(secureLoad(topic, table, secure.kafkaProperties(), topic, "--bounded")));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(2L));

    String password = password();
    assertThat(password.length() > 10, is(true));
    String wrong = "not-" + password;
    err.reset();
    assertThat(
        run(secureLoad(topic, table, withPassword(wrong), topic + "-bad", "--bounded")),
        is(Launcher.USAGE));
    String printed = err.toString(StandardCharsets.UTF_8) + out.toString(StandardCharsets.UTF_8);
    assertThat(
        printed,
        containsString(
            "Kafka at "
                + broker.secureBootstrapServers()
                + " (SASL_SSL, SCRAM-SHA-512) refused the login"));
    assertThat(printed, not(containsString(wrong)));
    assertThat(printed, not(containsString(password)));

    // A stream checks its login before it starts, too.
    err.reset();
    assertThat(
        run(secureLoad(topic, table, withPassword(wrong), topic + "-stream")),
        is(Launcher.RUN_FAILED));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "kafka-to-jdbc could not check the login to the brokers and topic "
                + topic
                + ": Kafka at "
                + broker.secureBootstrapServers()
                + " (SASL_SSL, SCRAM-SHA-512) refused the login"));
  }

  /** kafka-to-jdbc from the secure sandbox's SASL_SSL listener with these client settings. */
  private static String[] secureLoad(
      String topic, String table, Path kafkaProperties, String group, String... more) {
    return KafkaToJdbcArgs.with(
        KafkaToJdbcArgs.of(
            topic,
            table,
            "--bootstrapServers=" + broker.secureBootstrapServers(),
            "--kafkaProperties=" + kafkaProperties,
            "--consumerGroup=" + group,
            "--deadLetter=file:" + dir.resolve("dlq-kafka")),
        more);
  }

  private static boolean encrypted(String url) throws Exception {
    Properties properties = new Properties();
    properties.setProperty("user", Postgres.USER);
    try (Connection c = DriverManager.getConnection(url, properties);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  @Test
  void aVerifyFullConnectionMigratesAndLoadsAndAWrongCaIsRefusedByName() throws Exception {
    String url = server.tlsUrl();
    assertThat(encrypted(url), is(true));
    assertOk(run("migrate", "apply", "--jdbcUrl=" + url, "--jdbcUser=postgres"));
    String topic = SharedSandbox.newTopic("tls-orders", 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "PAID"));
    String[] load =
        KafkaToJdbcArgs.of(
            topic,
            "orders",
            "--jdbcUrl=" + url,
            "--bounded",
            "--deadLetter=jdbc:sluice_dead_letters");
    assertOk(run(load));
    try (Connection c = server.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
      rs.next();
      assertThat(rs.getLong(1), is(2L));
    }

    // A CA that did not sign the server's certificate: refused before anything is read, and the
    // message says what to fix.
    Certificates other = Certificates.in(dir.resolve("other-ca"), "Some Other CA");
    String wrong = server.jdbcUrl() + "?sslmode=verify-full&sslrootcert=" + other.caPem();
    err.reset();
    assertThat(
        run(
            KafkaToJdbcArgs.of(
                topic,
                "orders",
                "--jdbcUrl=" + wrong,
                "--bounded",
                "--deadLetter=file:" + dir.resolve("dlq"))),
        is(Launcher.USAGE));
    String printed = err.toString(StandardCharsets.UTF_8);
    assertThat(
        printed,
        containsString(
            "--jdbcUrl: TLS with jdbc:postgresql://localhost:"
                + server.port()
                + "/postgres failed: the server's certificate is not signed by the CA that"
                + " sslrootcert names; give the certificate of the CA that signed the server's as"
                + " sslrootcert=<file>"));
    assertThat(printed, not(containsString(certificates.storePassword())));
  }
}

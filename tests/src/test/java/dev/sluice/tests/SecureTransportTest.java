package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.sluice.runners.Launcher;
import dev.sluice.runners.sandbox.Certificates;
import dev.sluice.runners.sandbox.Postgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encrypted connections: a PostgreSQL server with a certificate signed by a CA of the test's own
 * (made with the JDK's keytool), reached with {@code sslmode=verify-full}.
 */
@ExtendWith(SharedSandbox.class)
class SecureTransportTest extends LauncherCalls {
  @TempDir static Path dir;
  private static Postgres server;
  private static Certificates certificates;

  @BeforeAll
  static void startATlsServer() throws Exception {
    certificates = Certificates.in(dir.resolve("tls"), "Sluice Test CA");
    server = Postgres.startWithTls(dir.resolve("pg"), certificates);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
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

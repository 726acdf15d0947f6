package dev.sluice.io.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JdbcConnectionTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "jdbc:postgresql://db:5432/shop?user=app&password=CANARY",
        "jdbc:postgresql://db:5432/shop?PASSWORD=CANARY",
        "jdbc:postgresql://db:5432/shop?sslpassword=CANARY&ssl=true",
        "jdbc:postgresql://app:CANARY@db:5432/shop",
        "jdbc:sqlserver://db:1433;user=app;password=CANARY"
      })
  void aUrlCarryingAPasswordIsRefusedWithoutEchoingIt(String url) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> JdbcConnection.of(url, "app", null));
    assertThat(e.getMessage(), containsString("--jdbcUrl must not carry a password"));
    assertThat(e.getMessage(), not(containsString("CANARY")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql://app:CANARY@db/shop", "CANARY"})
  void anInvalidUrlIsNotEchoed(String url) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> JdbcConnection.of("deadLetterJdbc", url, "app", null));
    assertThat(e.getMessage(), containsString("--deadLetterJdbcUrl must start with jdbc:"));
    assertThat(e.getMessage(), not(containsString("CANARY")));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "jdbc:postgresql://db:5432/shop",
        "jdbc:postgresql://db:5432/shop?user=app&ssl=true&sslmode=verify-full",
        "jdbc:postgresql://app@db:5432/shop"
      })
  void aUrlWithoutCredentialsIsAccepted(String url) {
    assertThat(JdbcConnection.of(url, "app", null).url(), equalTo(url));
  }

  /**
   * The one-off work of plans and steps on a connection outside the pool: a statement's changed
   * rows, a probe that runs, and a database error as an IOException with the database's message.
   */
  @Test
  void directWorkRunsStatementsAndReportsTheDatabasesError(@TempDir Path dir) throws Exception {
    JdbcConnection db = JdbcConnection.of("jdbc:sqlite:" + dir.resolve("t.db"), null, null);
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    assertThat(db.execute("INSERT INTO t VALUES (1), (2)"), equalTo(2));
    db.probe("SELECT id FROM t");
    assertThat(
        db.withDirect(
            c -> {
              try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                return rs.getLong(1);
              }
            }),
        equalTo(2L));
    IOException e = assertThrows(IOException.class, () -> db.probe("SELECT id FROM missing"));
    assertThat(e.getMessage(), containsString("missing"));
  }

  @Test
  void turningTlsOffForAHostThatIsNotThisMachineIsWarnedAbout() {
    assertThat(
        JdbcConnection.transportWarning(
                "jdbcUrl", "jdbc:postgresql://db.example.com:5432/app?sslmode=disable")
            .orElseThrow(),
        equalTo(
            "--jdbcUrl turns TLS off (sslmode=disable) for db.example.com, which is not this"
                + " machine: the login and every row cross the network in clear. Use"
                + " sslmode=verify-full with sslrootcert=<the server's CA certificate>"));
    assertThat(
        JdbcConnection.transportWarning("jdbcUrl", "jdbc:postgresql://10.0.0.7/app?ssl=false")
            .isPresent(),
        equalTo(true));
    for (String quiet :
        new String[] {
          "jdbc:postgresql://localhost:5432/app?sslmode=disable",
          "jdbc:postgresql://127.0.0.1/app?sslmode=disable",
          "jdbc:postgresql://[::1]:5432/app?sslmode=disable",
          "jdbc:postgresql://db.example.com/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
          "jdbc:postgresql://db.example.com/app"
        }) {
      assertThat(
          quiet, JdbcConnection.transportWarning("jdbcUrl", quiet).isPresent(), equalTo(false));
    }
  }
}

package dev.sluice.io.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}

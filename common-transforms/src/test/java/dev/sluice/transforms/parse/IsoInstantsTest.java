package dev.sluice.transforms.parse;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The fast path reads exactly what {@link OffsetDateTime#parse} reads, and refuses the same. */
class IsoInstantsTest {
  private static String javaTime(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant().toString();
    } catch (DateTimeParseException e) {
      return "refused";
    }
  }

  private static String ours(String text) {
    try {
      return IsoInstants.parse(text).toString();
    } catch (DateTimeParseException e) {
      return "refused";
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2026-11-25T10:15:30Z",
        "2026-11-25T10:15:30.123Z",
        "2026-11-25T10:15:30.123456789Z",
        "2026-11-25T10:15:30.1234567890Z",
        "2026-11-25T10:15:30+05:30",
        "2026-11-25T10:15:30-08:00",
        "2026-11-25T10:15:30.5+18:00",
        "2026-11-25T10:15:30+18:01",
        "2026-11-25T10:15:30+19:00",
        "2024-02-29T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T23:60:00Z",
        "2026-11-25T23:59:60Z",
        "2026-11-25T10:15Z",
        "2026-11-25t10:15:30z",
        "2026-11-25T10:15:30.Z",
        "2026-11-25T10:15:30",
        "2026-11-25 10:15:30Z",
        "+12026-11-25T10:15:30Z",
        "0000-01-01T00:00:00Z",
        "2026-11-25T10:15:30+0530",
        "2026-11-25T10:15:30+05:30:15",
        "2026-1a-25T10:15:30Z"
      })
  void readsWhatJavaTimeReads(String text) {
    assertThat(ours(text), equalTo(javaTime(text)));
  }

  @Test
  void agreesWithJavaTimeOnRandomTimestamps() {
    Random random = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      long seconds = random.nextLong() % 10_000_000_000L;
      Instant instant = Instant.ofEpochSecond(seconds, random.nextInt(1_000_000_000));
      int offset = (random.nextInt(37) - 18) * 3600 + random.nextInt(4) * 15 * 60;
      offset = Math.max(-18 * 3600, Math.min(18 * 3600, offset));
      String text = OffsetDateTime.ofInstant(instant, ZoneOffset.ofTotalSeconds(offset)).toString();
      assertThat(text, ours(text), equalTo(javaTime(text)));
    }
  }
}

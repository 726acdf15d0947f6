package dev.sluice.io.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AvroColumnsTest {
  private static final DateTimeFormatter POSTGRES =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSx");

  @Test
  void timestampsAreWrittenAsUtcTextWithMicroseconds() {
    Random random = new Random(3);
    for (int i = 0; i < 20_000; i++) {
      long micros = random.nextLong() % 200_000_000_000_000_000L;
      Instant instant =
          Instant.ofEpochSecond(
              Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
      StringBuilder out = new StringBuilder();
      AvroColumns.timestamp(
          Math.floorDiv(micros, 1_000_000L), (int) Math.floorMod(micros, 1_000_000L), out);
      String expected =
          instant.atOffset(ZoneOffset.UTC).getYear() < 1
                  || instant.atOffset(ZoneOffset.UTC).getYear() > 9999
              ? instant.toString()
              : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC).format(POSTGRES);
      assertThat(out.toString(), equalTo(expected));
    }
  }
}

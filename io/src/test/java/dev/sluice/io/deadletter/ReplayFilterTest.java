package dev.sluice.io.deadletter;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ReplayFilterTest {
  private static DeadLetter letter(String origin, String reason, String rule, String failedAt) {
    return DeadLetter.newBuilder()
        .setPipeline("kafka-to-jdbc")
        .setStep("Parse")
        .setOrigin(origin)
        .setReason(reason)
        .setPayload(ByteBuffer.wrap(new byte[] {1}))
        .setPayloadPreview("")
        .setErrorClass("E")
        .setErrorMessage("m")
        .setRule(rule)
        .setFailedAt(Instant.parse(failedAt))
        .build();
  }

  private static final DeadLetter SCHEMA =
      letter("kafka:orders/3@1842", "schema", null, "2026-11-25T10:00:00Z");
  private static final DeadLetter RULE =
      letter("file:/in/2026-11-24/a.csv#7", "rule", "range(amount)", "2026-11-26T10:00:00Z");

  @Test
  void everyFilterGivenMustMatch() {
    ReplayFilter any = new ReplayFilter("kafka-to-jdbc", null, null, null, null, null, null);
    assertThat(any.matches(SCHEMA) && any.matches(RULE), is(true));
    assertThat(
        new ReplayFilter("files-to-lake", null, null, null, null, null, null).matches(SCHEMA),
        is(false));
    ReplayFilter byRule =
        new ReplayFilter("kafka-to-jdbc", "rule", "Parse", "range(amount)", null, null, null);
    assertThat(byRule.matches(RULE) + " " + byRule.matches(SCHEMA), is("true false"));
    ReplayFilter window =
        new ReplayFilter(
            "kafka-to-jdbc",
            null,
            null,
            null,
            Instant.parse("2026-11-25T10:00:00Z"),
            Instant.parse("2026-11-26T10:00:00Z"),
            null);
    // since is inclusive, until exclusive
    assertThat(window.matches(SCHEMA) + " " + window.matches(RULE), is("true false"));
  }

  @Test
  void anOriginGlobMatchesWholeOriginsAcrossSlashes() {
    assertThat(
        new ReplayFilter("kafka-to-jdbc", null, null, null, null, null, "kafka:orders/*")
            .matches(SCHEMA),
        is(true));
    assertThat(
        new ReplayFilter("kafka-to-jdbc", null, null, null, null, null, "file:/in/2026-11-2?/*")
            .matches(RULE),
        is(true));
    assertThat(
        new ReplayFilter("kafka-to-jdbc", null, null, null, null, null, "kafka:orders")
            .matches(SCHEMA),
        is(false));
    assertThat(
        new ReplayFilter("kafka-to-jdbc", null, null, null, null, null, "kafka:orders/3@18.2")
            .matches(SCHEMA),
        is(false));
  }

  @Test
  void aWindowThatEndsBeforeItStartsIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new ReplayFilter(
                    "kafka-to-jdbc",
                    null,
                    null,
                    null,
                    Instant.parse("2026-11-26T00:00:00Z"),
                    Instant.parse("2026-11-25T00:00:00Z"),
                    null));
    assertThat(e.getMessage(), containsString("--since must be before --until"));
  }
}

package dev.sluice.transforms.deadletter;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.nullValue;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
  private final DeadLetters deadLetters =
      DeadLetters.forStep("files-to-lake", "Parse").withSchema(Order.getClassSchema());

  @Test
  void keepsOriginalBytesOriginReasonAndSchema() {
    byte[] payload = {'a', (byte) 0xFF, 'b'};
    DeadLetter d =
        deadLetters.of(
            new SourceRecord("kafka:orders/3@1842", payload, 1_795_608_000_000L, null),
            new RecordException(FailureReason.DECODE, "bytes are not valid UTF-8"));
    assertThat(DeadLetterJson.bytes(d.getPayload()), equalTo(payload));
    assertThat(d.getPayloadPreview(), equalTo("a\uFFFDb"));
    assertThat(d.getOrigin(), equalTo("kafka:orders/3@1842"));
    assertThat(d.getReason(), equalTo("decode"));
    assertThat(d.getStep(), equalTo("Parse"));
    assertThat(d.getPipeline(), equalTo("files-to-lake"));
    assertThat(d.getSchemaName(), equalTo("Order"));
    assertThat(d.getSchemaVersion(), is(2));
    assertThat(d.getSourceTimestamp().toEpochMilli(), is(1_795_608_000_000L));
    assertThat(d.getStackTrace(), nullValue());
    assertThat(d.getAttempt(), is(1));
  }

  @Test
  void exceptionsKeepABoundedStackTrace() {
    DeadLetter d =
        deadLetters.of(
            SourceRecord.of("file:/in/a.csv#2", "x".getBytes(StandardCharsets.UTF_8)),
            FailureReason.TRANSFORM,
            new IllegalStateException("boom"));
    assertThat(d.getReason(), equalTo("transform"));
    assertThat(d.getErrorClass(), equalTo("java.lang.IllegalStateException"));
    assertThat(d.getErrorMessage(), equalTo("boom"));
    assertThat(d.getStackTrace(), containsString("IllegalStateException: boom"));
    assertThat(d.getStackTrace().length(), lessThanOrEqualTo(DeadLetters.STACK_TRACE_CHARS + 32));
  }

  @Test
  void previewIsBoundedAndNeverSplitsASurrogatePair() {
    String longText = "😀".repeat(DeadLetters.PREVIEW_CHARS);
    String preview = DeadLetters.preview(longText.getBytes(StandardCharsets.UTF_8));
    assertThat(preview.length(), lessThanOrEqualTo(DeadLetters.PREVIEW_CHARS + 1));
    assertThat(preview, endsWith("😀…"));
  }

  @Test
  void jsonFormRoundTripsEveryField() {
    DeadLetter d =
        deadLetters.of(
            new SourceRecord(
                "file:/in/a.csv#9", new byte[] {0, 1, 2, (byte) 0xFE}, 1_000L, new byte[] {'h'}),
            new RecordException(FailureReason.RULE, "amount below 0", "range_amount", null));
    DeadLetter back = DeadLetterJson.fromJson(DeadLetterJson.toJson(d));
    assertThat(back, equalTo(d));
    assertThat(back.getRule(), equalTo("range_amount"));
  }

  @Test
  void thePreviewEscapesControlCharactersButKeepsTabs() {
    byte[] payload = "a\u0000b\tc\nd\u007f".getBytes(StandardCharsets.UTF_8);
    assertThat(DeadLetters.preview(payload), equalTo("a\\u0000b\tc\\u000ad\\u007f"));
  }
}

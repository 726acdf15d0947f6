package dev.sluice.transforms.deadletter;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.values.PCollection;

/**
 * Converts Beam's {@link BadRecord}s (what a Beam IO's bad-record handler collects, e.g. KafkaIO's
 * deserializer failures) into Sluice's dead-letter record, so they reach the same sink with the
 * same counters: the payload is the record's encoded bytes (or its JSON form when Beam could not
 * encode it), the origin names the step and Beam's description.
 */
public final class BadRecords extends PTransform<PCollection<BadRecord>, PCollection<DeadLetter>> {
  private final String pipeline;
  private final String step;
  private final FailureReason reason;

  private BadRecords(String pipeline, String step, FailureReason reason) {
    super("BadRecordsToDeadLetters");
    this.pipeline = pipeline;
    this.step = step;
    this.reason = reason;
  }

  public static BadRecords toDeadLetters(String pipeline, String step, FailureReason reason) {
    return new BadRecords(pipeline, step, reason);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("step", step)).add(DisplayData.item("reason", reason.name()));
  }

  /** One conversion, for use outside a pipeline too. */
  public static DeadLetter convert(
      BadRecord bad, String pipeline, String step, FailureReason reason) {
    BadRecord.Record record = bad.getRecord();
    BadRecord.Failure failure = bad.getFailure();
    byte[] payload =
        record.getEncodedRecord() != null
            ? record.getEncodedRecord()
            : String.valueOf(record.getHumanReadableJsonRecord()).getBytes(StandardCharsets.UTF_8);
    String exception = failure.getException() == null ? "" : failure.getException();
    int colon = exception.indexOf(':');
    String stack = failure.getExceptionStacktrace();
    return DeadLetter.newBuilder()
        .setPipeline(pipeline)
        .setStep(step)
        .setOrigin("beam:" + step + "/" + failure.getDescription())
        .setReason(reason.label())
        .setPayload(ByteBuffer.wrap(payload))
        .setPayloadPreview(DeadLetters.preview(payload))
        .setErrorClass(colon > 0 ? exception.substring(0, colon).strip() : exception)
        .setErrorMessage(
            colon > 0 ? exception.substring(colon + 1).strip() : failure.getDescription())
        .setStackTrace(
            stack == null || stack.length() <= DeadLetters.STACK_TRACE_CHARS
                ? stack
                : stack.substring(0, DeadLetters.STACK_TRACE_CHARS) + "\n\t... (truncated)")
        .setAttempt(1)
        .setFailedAt(Instant.now())
        .build();
  }

  /**
   * Beam's IO failed these records before Sluice's reader saw them, so they are counted as read
   * here: every record stays accounted for.
   */
  @Override
  public PCollection<DeadLetter> expand(PCollection<BadRecord> input) {
    return input
        .apply("Convert", ParDo.of(new ConvertFn(pipeline, step, reason)))
        .setCoder(DeadLetters.coder());
  }

  static final class ConvertFn extends DoFn<BadRecord, DeadLetter> {
    private final String pipeline;
    private final String step;
    private final FailureReason reason;
    private final Accounting accounting;

    ConvertFn(String pipeline, String step, FailureReason reason) {
      this.pipeline = pipeline;
      this.step = step;
      this.reason = reason;
      this.accounting = Accounting.of(pipeline);
    }

    @ProcessElement
    public void process(@Element BadRecord bad, OutputReceiver<DeadLetter> out) {
      accounting.read().inc();
      out.output(convert(bad, pipeline, step, reason));
    }
  }
}

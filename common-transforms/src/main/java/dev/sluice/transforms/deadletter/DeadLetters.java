package dev.sluice.transforms.deadletter;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;

/**
 * Builds the one dead-letter record of Sluice for a given pipeline step: the original bytes, where
 * they came from and why they failed. Every step of every pipeline makes its dead letters here.
 */
public final class DeadLetters implements Serializable {
  /** Characters of the payload kept in {@code payload_preview}. */
  public static final int PREVIEW_CHARS = 256;

  /** Characters of the stack trace kept in {@code stack_trace}. */
  public static final int STACK_TRACE_CHARS = 8192;

  private final String pipeline;
  private final String step;
  private final @Nullable String schemaName;
  private final @Nullable Integer schemaVersion;

  private DeadLetters(
      String pipeline, String step, @Nullable String schemaName, @Nullable Integer schemaVersion) {
    this.pipeline = pipeline;
    this.step = step;
    this.schemaName = schemaName;
    this.schemaVersion = schemaVersion;
  }

  /** Dead letters made by {@code step} of {@code pipeline}. */
  public static DeadLetters forStep(String pipeline, String step) {
    Objects.requireNonNull(pipeline, "pipeline");
    Objects.requireNonNull(step, "step");
    return new DeadLetters(pipeline, step, null, null);
  }

  /**
   * The same, recording the schema (name and contract version) the records were checked against.
   */
  public DeadLetters withSchema(Schema schema) {
    return new DeadLetters(pipeline, step, schema.getName(), Schemas.version(schema));
  }

  public String pipeline() {
    return pipeline;
  }

  public String step() {
    return step;
  }

  /** The coder of dead-letter collections. */
  public static Coder<DeadLetter> coder() {
    return AvroCoder.of(DeadLetter.class);
  }

  /** A dead letter for a record-level failure (decode, parse, schema, rule). */
  public DeadLetter of(SourceRecord record, RecordException failure) {
    return of(
        record,
        failure.reason(),
        failure.getMessage(),
        failure.rule(),
        failure.getCause() == null ? failure : failure.getCause(),
        failure.getCause() != null);
  }

  /** A dead letter for an exception a step threw while handling the record. */
  public DeadLetter of(SourceRecord record, FailureReason reason, Throwable error) {
    return of(record, reason, String.valueOf(error.getMessage()), null, error, true);
  }

  private DeadLetter of(
      SourceRecord record,
      FailureReason reason,
      String message,
      @Nullable String rule,
      Throwable error,
      boolean withStackTrace) {
    return DeadLetter.newBuilder()
        .setPipeline(pipeline)
        .setStep(step)
        .setOrigin(record.origin())
        .setReason(reason.label())
        .setPayload(ByteBuffer.wrap(record.payload()))
        .setPayloadPreview(preview(record.payload()))
        .setErrorClass(error.getClass().getName())
        .setErrorMessage(message == null ? error.getClass().getSimpleName() : message)
        .setStackTrace(withStackTrace ? stackTrace(error) : null)
        .setRule(rule)
        .setAttempt(1)
        .setFailedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
        .setSchemaName(schemaName)
        .setSchemaVersion(schemaVersion)
        .setSourceTimestamp(
            record.sourceTimestamp() == null
                ? null
                : Instant.ofEpochMilli(record.sourceTimestamp()))
        .setPayloadHeader(record.header() == null ? null : ByteBuffer.wrap(record.header()))
        .build();
  }

  /**
   * At most {@link #PREVIEW_CHARS} characters of the payload as UTF-8, with invalid bytes replaced
   * by U+FFFD and control characters (U+0000 to U+001F but tab, and U+007F) written as {@code
   * \\u0000} escapes: safe to show and to store in any text column, never used for replay (the
   * payload is).
   */
  public static String preview(byte[] payload) {
    return escapeControls(decodedPreview(payload));
  }

  /**
   * The text with control characters (U+0000 to U+001F but tab, and U+007F) written as {@code
   * \\u0000}-style escapes, so that it fits any text column (PostgreSQL refuses U+0000) and any
   * terminal.
   */
  public static String escapeControls(String text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean control = (c < 0x20 && c != '\t') || c == 0x7F;
      if (control && out == null) {
        out = new StringBuilder(text.length() + 16).append(text, 0, i);
      }
      if (out != null) {
        if (control) {
          out.append(String.format("\\u%04x", (int) c));
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? text : out.toString();
  }

  private static String decodedPreview(byte[] payload) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    ByteBuffer in = ByteBuffer.wrap(payload);
    CharBuffer out = CharBuffer.allocate(PREVIEW_CHARS);
    decoder.decode(in, out, true);
    out.flip();
    return in.hasRemaining() ? out + "…" : out.toString();
  }

  /**
   * The record a dead letter holds, as its source delivered it: origin, original bytes, source
   * timestamp and (for a CSV line) its file's header. What a replay feeds through the pipeline
   * again.
   */
  public static SourceRecord source(DeadLetter d) {
    return new SourceRecord(
        d.getOrigin(),
        AvroTypes.bytes(d.getPayload()),
        d.getSourceTimestamp() == null ? null : d.getSourceTimestamp().toEpochMilli(),
        d.getPayloadHeader() == null ? null : AvroTypes.bytes(d.getPayloadHeader()));
  }

  /** The stack trace, cut at {@link #STACK_TRACE_CHARS} characters. */
  public static String stackTrace(Throwable error) {
    StringWriter text = new StringWriter();
    error.printStackTrace(new PrintWriter(text));
    String trace = text.toString();
    return trace.length() <= STACK_TRACE_CHARS
        ? trace
        : trace.substring(0, STACK_TRACE_CHARS) + "\n\t... (truncated)";
  }
}

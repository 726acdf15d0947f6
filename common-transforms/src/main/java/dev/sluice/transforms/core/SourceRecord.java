package dev.sluice.transforms.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.StructuredCoder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * One record as a source delivered it: its untouched bytes and where it came from.
 *
 * @param origin where the record came from, e.g. {@code file:/in/a.csv#17} or {@code
 *     kafka:orders/3@1842}
 * @param payload the original bytes, never decoded or trimmed
 * @param sourceTimestamp the timestamp the source gave the record (epoch millis), if any
 * @param header the raw header line of the record's file, for CSV input; null otherwise
 */
public record SourceRecord(
    String origin, byte[] payload, @Nullable Long sourceTimestamp, @Nullable byte[] header)
    implements Serializable {

  public SourceRecord {
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(payload, "payload");
  }

  public static SourceRecord of(String origin, byte[] payload) {
    return new SourceRecord(origin, payload, null, null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SourceRecord other
        && origin.equals(other.origin)
        && Arrays.equals(payload, other.payload)
        && Objects.equals(sourceTimestamp, other.sourceTimestamp)
        && Arrays.equals(header, other.header);
  }

  @Override
  public int hashCode() {
    return Objects.hash(origin, Arrays.hashCode(payload), sourceTimestamp, Arrays.hashCode(header));
  }

  @Override
  public String toString() {
    return "SourceRecord{" + origin + ", " + payload.length + " bytes}";
  }

  /** A compact, deterministic coder: no Java serialization. */
  public static final class SourceRecordCoder extends StructuredCoder<SourceRecord> {
    private static final SourceRecordCoder INSTANCE = new SourceRecordCoder();
    private static final Coder<String> ORIGIN = StringUtf8Coder.of();
    private static final Coder<byte[]> BYTES = ByteArrayCoder.of();
    private static final Coder<Long> TIMESTAMP = NullableCoder.of(VarLongCoder.of());
    private static final Coder<byte[]> HEADER = NullableCoder.of(ByteArrayCoder.of());

    public static SourceRecordCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(SourceRecord value, OutputStream out) throws IOException {
      ORIGIN.encode(value.origin(), out);
      BYTES.encode(value.payload(), out);
      TIMESTAMP.encode(value.sourceTimestamp(), out);
      HEADER.encode(value.header(), out);
    }

    @Override
    public SourceRecord decode(InputStream in) throws IOException {
      return new SourceRecord(
          ORIGIN.decode(in), BYTES.decode(in), TIMESTAMP.decode(in), HEADER.decode(in));
    }

    @Override
    public List<? extends Coder<?>> getCoderArguments() {
      return List.of();
    }

    @Override
    public void verifyDeterministic() {}
  }
}

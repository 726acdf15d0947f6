package dev.sluice.transforms.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.StructuredCoder;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * A value with where it came from: the {@link SourceRecord} it was read as (origin, original bytes,
 * source timestamp), carried along every step so that whichever step rejects the value can
 * dead-letter it with its original bytes and origin.
 *
 * @param source what was read
 * @param value what it became (e.g. a parsed record)
 * @param <T> the value's type
 */
public record Traced<T>(SourceRecord source, T value) {
  public static <T> Traced<T> of(SourceRecord source, T value) {
    return new Traced<>(source, value);
  }

  /** The same source with another value. */
  public <U> Traced<U> withValue(U other) {
    return new Traced<>(source, other);
  }

  /** The coder of traced values whose values {@code valueCoder} encodes. */
  public static <T> TracedCoder<T> coder(Coder<T> valueCoder) {
    return new TracedCoder<>(valueCoder);
  }

  /** The values alone, without their sources, encoded by {@code coder}. */
  public static <T> Values<T> values(Coder<T> coder) {
    return new Values<>(coder);
  }

  /** See {@link #values}. */
  public static final class Values<T> extends PTransform<PCollection<Traced<T>>, PCollection<T>> {
    private final Coder<T> coder;

    private Values(Coder<T> coder) {
      super("Values");
      this.coder = coder;
    }

    @Override
    public void populateDisplayData(DisplayData.Builder b) {
      super.populateDisplayData(b);
      b.add(DisplayData.item("coder", coder.toString()));
    }

    @Override
    public PCollection<T> expand(PCollection<Traced<T>> input) {
      return input
          .apply(
              "Value",
              MapElements.into(new TypeDescriptor<T>() {})
                  .via((Traced<T> traced) -> traced.value()))
          .setCoder(coder);
    }
  }

  /** Encodes the source, then the value. */
  public static final class TracedCoder<T> extends StructuredCoder<Traced<T>> {
    private final Coder<T> valueCoder;

    private TracedCoder(Coder<T> valueCoder) {
      this.valueCoder = valueCoder;
    }

    public Coder<T> valueCoder() {
      return valueCoder;
    }

    @Override
    public void encode(Traced<T> traced, OutputStream out) throws IOException {
      SourceRecord.SourceRecordCoder.of().encode(traced.source(), out);
      valueCoder.encode(traced.value(), out);
    }

    @Override
    public Traced<T> decode(InputStream in) throws IOException {
      SourceRecord source = SourceRecord.SourceRecordCoder.of().decode(in);
      return new Traced<>(source, valueCoder.decode(in));
    }

    @Override
    public List<? extends Coder<?>> getCoderArguments() {
      return List.of(valueCoder);
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      verifyDeterministic(this, "the value coder must be deterministic", valueCoder);
    }
  }
}

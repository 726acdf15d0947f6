package dev.sluice.transforms.core;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.TupleTag;
import org.joda.time.Instant;

/**
 * The one batching DoFn: gathers a bundle's elements (with their window and timestamp) and hands
 * them to {@link #flush} in batches of at most {@code batchSize}, and once more with what is left
 * when the bundle finishes, so nothing waits past its bundle. What a batch emits goes out with the
 * window and timestamp of the element it came from.
 *
 * @param <InputT> the elements batched
 * @param <OutputT> the main output (Void when the batch only writes)
 */
public abstract class BatchingFn<InputT, OutputT> extends DoFn<InputT, OutputT> {
  /** An element of the batch, with the window and timestamp its outputs keep. */
  public record Pending<T>(T element, BoundedWindow window, Instant timestamp) {}

  /** Where a batch's outputs go. */
  public interface Emitter {
    /** Emits {@code value} to {@code tag} in the window and at the timestamp of {@code from}. */
    <T> void emit(TupleTag<T> tag, T value, Pending<?> from);
  }

  private final int batchSize;
  private transient List<Pending<InputT>> pending;

  protected BatchingFn(int batchSize) {
    checkArgument(batchSize > 0, "batchSize must be > 0, but was %s", batchSize);
    this.batchSize = batchSize;
  }

  /** Handles one batch (never empty) and emits its outputs. */
  protected abstract void flush(List<Pending<InputT>> batch, Emitter out) throws Exception;

  /** Called before a bundle's first element (e.g. to report lineage once). */
  protected void startBatches() {}

  @StartBundle
  public final void startBundle() {
    pending = new ArrayList<>();
    startBatches();
  }

  @ProcessElement
  public final void processElement(
      @Element InputT element,
      BoundedWindow window,
      @Timestamp Instant timestamp,
      MultiOutputReceiver out)
      throws Exception {
    pending.add(new Pending<>(element, window, timestamp));
    if (pending.size() >= batchSize) {
      List<Pending<InputT>> batch = pending;
      pending = new ArrayList<>();
      flush(
          batch,
          new Emitter() {
            @Override
            public <T> void emit(TupleTag<T> tag, T value, Pending<?> from) {
              out.get(tag).outputWithTimestamp(value, timestamp);
            }
          });
    }
  }

  @FinishBundle
  public final void finishBundle(FinishBundleContext context) throws Exception {
    if (pending.isEmpty()) {
      return;
    }
    List<Pending<InputT>> batch = pending;
    pending = new ArrayList<>();
    flush(
        batch,
        new Emitter() {
          @Override
          public <T> void emit(TupleTag<T> tag, T value, Pending<?> from) {
            context.output(tag, value, from.timestamp(), from.window());
          }
        });
  }
}

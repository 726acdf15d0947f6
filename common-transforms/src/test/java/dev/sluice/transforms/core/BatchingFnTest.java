package dev.sluice.transforms.core;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The one batching DoFn, and the element type every step carries. */
@ExtendWith(TestPipelineExtension.class)
class BatchingFnTest {
  private static final TupleTag<String> BATCHES = new TupleTag<>("batches");
  private static final TupleTag<Integer> EACH = new TupleTag<>("each");

  /** Emits each batch's size once, and each element again, in the element's window. */
  static final class SizesFn extends BatchingFn<Integer, String> {
    SizesFn(int size) {
      super(size);
    }

    @Override
    protected void flush(List<Pending<Integer>> batch, Emitter out) {
      out.emit(BATCHES, "batch of " + batch.size(), batch.get(batch.size() - 1));
      for (Pending<Integer> p : batch) {
        out.emit(EACH, p.element(), p);
      }
    }
  }

  @Test
  void everyElementIsFlushedOnceInBatchesOfAtMostTheSize(TestPipeline pipeline) {
    PCollectionTuple out =
        pipeline
            .apply(Create.of(1, 2, 3, 4, 5, 6, 7).withCoder(VarIntCoder.of()))
            .apply(ParDo.of(new SizesFn(3)).withOutputTags(BATCHES, TupleTagList.of(EACH)));
    out.get(BATCHES).setCoder(StringUtf8Coder.of());
    PCollection<Integer> each = out.get(EACH).setCoder(VarIntCoder.of());

    PAssert.that(each).containsInAnyOrder(1, 2, 3, 4, 5, 6, 7);
    PAssert.that(out.get(BATCHES))
        .satisfies(
            batches -> {
              int total = 0;
              for (String batch : batches) {
                int size = Integer.parseInt(batch.substring("batch of ".length()));
                assertThat(batch, size >= 1 && size <= 3, is(true));
                total += size;
              }
              assertThat(total, is(7));
              return null;
            });
    pipeline.run().waitUntilFinish();
  }

  @Test
  void outputsKeepTheWindowOfTheElementTheyCameFrom(TestPipeline pipeline) {
    PCollectionTuple out =
        pipeline
            .apply(
                Create.timestamped(
                        TimestampedValue.of(1, new Instant(0)),
                        TimestampedValue.of(2, new Instant(60_000)))
                    .withCoder(VarIntCoder.of()))
            .apply(Window.into(FixedWindows.of(Duration.standardMinutes(1))))
            .apply(ParDo.of(new SizesFn(100)).withOutputTags(BATCHES, TupleTagList.of(EACH)));
    out.get(BATCHES).setCoder(StringUtf8Coder.of());
    PCollection<Integer> each = out.get(EACH).setCoder(VarIntCoder.of());

    PAssert.that(each)
        .inWindow(new IntervalWindow(new Instant(0), Duration.standardMinutes(1)))
        .containsInAnyOrder(1);
    PAssert.that(each)
        .inWindow(new IntervalWindow(new Instant(60_000), Duration.standardMinutes(1)))
        .containsInAnyOrder(2);
    pipeline.run().waitUntilFinish();
  }

  @Test
  void tracedValuesRoundTripThroughTheirCoderWithTheirSource() throws Exception {
    Traced<String> traced =
        Traced.of(
            new SourceRecord(
                "kafka:orders/1@42", "{\"a\":1}".getBytes(StandardCharsets.UTF_8), 1234L, null),
            "parsed");
    CoderProperties.coderDecodeEncodeEqual(Traced.coder(StringUtf8Coder.of()), traced);
    CoderProperties.coderDeterministic(
        Traced.coder(StringUtf8Coder.of()), traced, Traced.of(traced.source(), "parsed"));
    assertThat(traced.withValue(7).source().origin(), is("kafka:orders/1@42"));
  }
}

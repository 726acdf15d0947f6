package dev.sluice.transforms.sql;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Instant;

/**
 * Takes out, as {@code late} dead letters, the events a windowed aggregate would drop: those whose
 * last window closed (its end plus the allowed lateness) before they came. Beam drops them in its
 * GroupByKey without a trace; here they are counted and kept.
 *
 * <p>Each shard of the stream keeps the closing times of the windows it passed events into, with an
 * event-time timer at the earliest. The timer holds the output watermark there, so no event this
 * step passes on can be late downstream; once it fires, the watermark is past that time, and an
 * event whose window closes no later is late. (An event at exactly that time may not have been
 * dropped yet; it is dead-lettered all the same, so nothing is ever lost, only kept.)
 */
final class TooLate extends PTransform<PCollection<Traced<GenericRecord>>, PCollectionTuple> {
  /**
   * One key: every window's closing time is known to the one judge, so an event is judged against
   * the latest watermark any window showed. (Shards would each know only their own windows, and a
   * shard's first event after a quiet spell could pass unjudged.)
   */
  static final int SHARDS = 1;

  final TupleTag<Traced<GenericRecord>> onTime = new TupleTag<>() {};
  final TupleTag<DeadLetter> late = new TupleTag<>() {};

  private final String pipeline;
  private final String step;
  private final SqlQuery.Window window;
  private final long allowedLatenessMillis;
  private final String inputSchema;

  TooLate(
      String pipeline,
      String step,
      SqlQuery.Window window,
      long allowedLatenessMillis,
      String inputSchema) {
    this.pipeline = pipeline;
    this.step = step;
    this.window = window;
    this.allowedLatenessMillis = allowedLatenessMillis;
    this.inputSchema = inputSchema;
  }

  @Override
  public PCollectionTuple expand(PCollection<Traced<GenericRecord>> records) {
    @SuppressWarnings("unchecked")
    Coder<Traced<GenericRecord>> coder = records.getCoder();
    PCollectionTuple out =
        records
            .apply("Shard", ParDo.of(new ShardFn()))
            .setCoder(KvCoder.of(VarIntCoder.of(), coder))
            .apply(
                "Judge",
                ParDo.of(
                        new JudgeFn(
                            pipeline,
                            step,
                            window,
                            allowedLatenessMillis,
                            inputSchema,
                            onTime,
                            late))
                    .withOutputTags(onTime, TupleTagList.of(late)));
    out.get(onTime).setCoder(coder);
    out.get(late).setCoder(DeadLetters.coder());
    return out;
  }

  private static final class ShardFn
      extends DoFn<Traced<GenericRecord>, KV<Integer, Traced<GenericRecord>>> {
    @ProcessElement
    public void process(
        @Element Traced<GenericRecord> record,
        OutputReceiver<KV<Integer, Traced<GenericRecord>>> out) {
      out.output(KV.of(Math.floorMod(record.source().origin().hashCode(), SHARDS), record));
    }
  }

  private static final class JudgeFn
      extends DoFn<KV<Integer, Traced<GenericRecord>>, Traced<GenericRecord>> {
    private final String step;
    private final SqlQuery.Window window;
    private final long allowedLatenessMillis;
    private final TupleTag<Traced<GenericRecord>> onTime;
    private final TupleTag<DeadLetter> late;
    private final DeadLetters deadLetters;

    @StateId("passed")
    private final StateSpec<ValueState<Long>> passedSpec = StateSpecs.value(VarLongCoder.of());

    @StateId("pending")
    private final StateSpec<ValueState<List<Long>>> pendingSpec =
        StateSpecs.value(ListCoder.of(VarLongCoder.of()));

    @TimerId("close")
    private final TimerSpec closeSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    JudgeFn(
        String pipeline,
        String step,
        SqlQuery.Window window,
        long allowedLatenessMillis,
        String inputSchema,
        TupleTag<Traced<GenericRecord>> onTime,
        TupleTag<DeadLetter> late) {
      this.step = step;
      this.window = window;
      this.allowedLatenessMillis = allowedLatenessMillis;
      this.onTime = onTime;
      this.late = late;
      this.deadLetters =
          DeadLetters.forStep(pipeline, "Transform." + step)
              .withSchema(new org.apache.avro.Schema.Parser().parse(inputSchema));
    }

    /** When the last window of an event at {@code millis} closes for late data. */
    private long closes(long millis) {
      return window.lastEnd(millis) - 1 + allowedLatenessMillis;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Traced<GenericRecord>> element,
        @StateId("passed") ValueState<Long> passed,
        @StateId("pending") ValueState<List<Long>> pending,
        @TimerId("close") Timer close,
        MultiOutputReceiver out) {
      Traced<GenericRecord> record = element.getValue();
      String field = window.field();
      Object value = record.value().get(field);
      if (value == null) {
        out.get(onTime).output(record);
        return;
      }
      long millis = eventMillis(record.value(), field, ((Number) value).longValue());
      long closes = closes(millis);
      Long watermark = passed.read();
      if (watermark != null && closes <= watermark) {
        SourceRecord source = record.source();
        out.get(late)
            .output(
                deadLetters.of(
                    source,
                    FailureReason.LATE,
                    new IllegalStateException(
                        "transform step '"
                            + step
                            + "': event at "
                            + new Instant(millis)
                            + " ("
                            + field
                            + ") came after its "
                            + window.kind()
                            + " window closed at "
                            + new Instant(closes + 1)
                            + " (its end plus the allowed lateness); the watermark was past "
                            + new Instant(watermark))));
        return;
      }
      List<Long> open =
          pending.read() == null ? new ArrayList<>() : new ArrayList<>(pending.read());
      if (!open.contains(closes)) {
        open.add(closes);
        open.sort(null);
        pending.write(open);
        close.set(new Instant(open.get(0)));
      }
      out.get(onTime).output(record);
    }

    @OnTimer("close")
    public void onClose(
        OnTimerContext context,
        @StateId("passed") ValueState<Long> passed,
        @StateId("pending") ValueState<List<Long>> pending,
        @TimerId("close") Timer close) {
      long fired = context.timestamp().getMillis();
      Long before = passed.read();
      passed.write(before == null ? fired : Math.max(before, fired));
      List<Long> open = new ArrayList<>();
      List<Long> stored = pending.read();
      if (stored != null) {
        for (Long t : stored) {
          if (t > fired) {
            open.add(t);
          }
        }
      }
      pending.write(open);
      if (!open.isEmpty()) {
        close.set(new Instant(open.get(0)));
      }
    }

    private static long eventMillis(GenericRecord record, String field, long raw) {
      org.apache.avro.Schema type =
          dev.sluice.transforms.core.AvroTypes.nonNull(record.getSchema().getField(field).schema());
      return type.getLogicalType() instanceof org.apache.avro.LogicalTypes.TimestampMicros
          ? Math.floorDiv(raw, 1000L)
          : raw;
    }
  }
}

package dev.sluice.pipelines.plan;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.RunTag;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * What a replay feeds through a pipeline in place of its source: the selected dead letters' records
 * as their source delivered them (origin, original bytes, source timestamp, CSV header), and the
 * attempt each last failed at, so that a record failing again is dead-lettered with the next
 * attempt.
 *
 * @param store where the replayed dead letters are held, e.g. {@code jdbc:sluice_dead_letters}
 * @param keys the keys of the selected dead letters in {@code store}, marked replayed after a
 *     successful run
 * @param runId the replay run's id, kept with the marks
 * @param tag names what the replay writes (lake files, dead-letter files) after the selection: a
 *     rerun of the same replay replaces its own files, never another run's
 * @param records the records to feed again, each once
 * @param attempts the attempt each record last failed at, by {@link #recordKey}
 * @param dryRun whether the run only counts what would land and what would fail again: it writes
 *     neither rows nor files nor dead letters, and its plan's steps are never run
 */
public record Replay(
    DeadLetterSink store,
    List<String> keys,
    String runId,
    String tag,
    List<SourceRecord> records,
    Map<String, Integer> attempts,
    boolean dryRun)
    implements Serializable {

  public Replay {
    keys = List.copyOf(keys);
    records = List.copyOf(records);
    attempts = Map.copyOf(attempts);
  }

  /** Where the replayed dead letters are held: {@code scheme:target}. */
  public String from() {
    return store.location();
  }

  /**
   * The step that marks the selected dead letters replayed: the last of a replay's steps after a
   * successful run (after its merge or publish), so nothing is marked that did not land.
   */
  public RunPlan.Step mark() {
    return new Steps.MarkReplayed(store, keys, runId);
  }

  /** What identifies a record across a replay: its origin and a hash of its bytes. */
  public static String recordKey(String origin, byte[] payload) {
    return origin + "#" + RunTag.identity(payload);
  }

  /** The records, counted as read and as replayed ({@code replay.selected}). */
  public PTransform<PBegin, PCollection<SourceRecord>> read(String pipeline) {
    return new Read(this, pipeline);
  }

  /**
   * The write of a dry run in place of the pipeline's: counts each record that passed parse and
   * rules as {@code written} (it would be offered to the sink) and writes nothing.
   */
  public static <T> PTransform<PCollection<T>, Result<Long>> dryWrite(String pipeline) {
    Accounting accounting = Accounting.of(pipeline);
    TupleTag<Long> written = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    return new PTransform<>("WouldWrite") {
      @Override
      public Result<Long> expand(PCollection<T> input) {
        PCollectionTuple out =
            input.apply(
                "Count",
                ParDo.of(
                        new DoFn<T, Long>() {
                          @ProcessElement
                          public void process(@Element T record) {
                            accounting.written().inc();
                          }
                        })
                    .withOutputTags(written, TupleTagList.of(failed)));
        out.get(written).setCoder(VarLongCoder.of());
        out.get(failed).setCoder(DeadLetters.coder());
        return Result.of(out, written, failed);
      }
    };
  }

  /**
   * The dead-letter sink, after giving each dead letter the attempt after its last one; a dry run's
   * dead letters are counted (as every dead letter is) and dropped.
   */
  public PTransform<PCollection<DeadLetter>, POutput> deadLetters(
      PTransform<PCollection<DeadLetter>, ? extends POutput> sink) {
    if (dryRun) {
      return new PTransform<>("WouldDeadLetter") {
        @Override
        public POutput expand(PCollection<DeadLetter> input) {
          // A step of its own: a composite with nothing inside would be taken for a primitive
          // that no runner knows, and the Direct runner would wait for it forever.
          input.apply(
              "Drop",
              ParDo.of(
                  new DoFn<DeadLetter, Void>() {
                    @ProcessElement
                    public void process(@Element DeadLetter d) {}
                  }));
          return PDone.in(input.getPipeline());
        }
      };
    }
    Map<String, Integer> last = attempts;
    return new PTransform<>("NextAttempt") {
      @Override
      public POutput expand(PCollection<DeadLetter> input) {
        return input
            .apply(
                "NextAttempt",
                MapElements.into(TypeDescriptor.of(DeadLetter.class))
                    .via(
                        (DeadLetter d) -> {
                          Integer before =
                              last.get(
                                  recordKey(
                                      d.getOrigin().toString(), AvroTypes.bytes(d.getPayload())));
                          if (before == null) {
                            return d;
                          }
                          DeadLetter next = DeadLetter.newBuilder(d).build();
                          next.setAttempt(before + 1);
                          return next;
                        }))
            .setCoder(input.getCoder())
            .apply(sink);
      }
    };
  }

  private static final class Read extends PTransform<PBegin, PCollection<SourceRecord>> {
    private final Replay replay;
    private final String pipeline;

    Read(Replay replay, String pipeline) {
      super("ReadDeadLetters");
      this.replay = replay;
      this.pipeline = pipeline;
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder
          .add(DisplayData.item("from", replay.from()))
          .add(DisplayData.item("records", replay.records().size()));
    }

    @Override
    public PCollection<SourceRecord> expand(PBegin input) {
      Accounting accounting = Accounting.of(pipeline);
      return input
          .apply(
              "Selected",
              Create.of(replay.records()).withCoder(SourceRecord.SourceRecordCoder.of()))
          .apply(
              "Count",
              ParDo.of(
                  new DoFn<SourceRecord, SourceRecord>() {
                    @ProcessElement
                    public void process(@Element SourceRecord r, OutputReceiver<SourceRecord> out) {
                      accounting.read().inc();
                      accounting.replaySelected().inc();
                      out.output(r);
                    }
                  }))
          .setCoder(SourceRecord.SourceRecordCoder.of());
    }
  }
}

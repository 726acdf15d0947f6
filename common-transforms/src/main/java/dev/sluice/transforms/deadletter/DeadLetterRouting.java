package dev.sluice.transforms.deadletter;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.pii.Pii;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler;
import org.apache.beam.sdk.transforms.windowing.DefaultTrigger;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.POutput;
import org.joda.time.Duration;

/**
 * The one mechanism that collects dead letters: a Beam {@link ErrorHandler} registered on the
 * pipeline, which counts each dead letter (by step and by reason) and hands it to the configured
 * sink. Steps add their dead-letter collections to it; the pipeline closes it before running.
 *
 * <p>Beam's {@code Pipeline.registerBadRecordErrorHandler} only takes {@code BadRecord}s; ours are
 * richer, so the handler is Beam's own {@link ErrorHandler.PTransformErrorHandler} over our record,
 * and records Beam IOs report as {@code BadRecord} are converted into it.
 */
public final class DeadLetterRouting {
  private DeadLetterRouting() {}

  /** Registers the dead-letter handler of a pipeline, writing to {@code sink}. */
  public static Collector register(
      Pipeline pipeline,
      Accounting accounting,
      PTransform<PCollection<DeadLetter>, ? extends POutput> sink) {
    return register(pipeline, accounting, sink, null);
  }

  /**
   * The same, sealing every dead letter with {@code pii} (when its contract holds personal data)
   * before the sink sees it: none is stored with personal data in clear, whichever step made it.
   */
  public static Collector register(
      Pipeline pipeline,
      Accounting accounting,
      PTransform<PCollection<DeadLetter>, ? extends POutput> sink,
      @Nullable Pii pii) {
    return new Collector(
        new ErrorHandler.PTransformErrorHandler<>(
            new CountThenWrite<>(accounting, sink, pii), pipeline, DeadLetters.coder()));
  }

  /**
   * The pipeline's dead-letter handler. Each step's dead letters are first put in the global window
   * with the default trigger, so steps that window or trigger differently (a streaming flush, a
   * watch interval) can still be flattened into the one sink; the sink decides how to batch them.
   */
  /**
   * Dead letters of any window (a windowed aggregate's, say) into the global window with the
   * default trigger, so that those of all steps flatten together.
   */
  public static Window<DeadLetter> globalWindow() {
    return Window.<DeadLetter>into(new GlobalWindows())
        .triggering(DefaultTrigger.of())
        .withAllowedLateness(Duration.ZERO)
        .discardingFiredPanes();
  }

  public static final class Collector implements AutoCloseable {
    private final ErrorHandler<DeadLetter, ?> handler;
    private final List<BeamBadRecords> beamHandlers = new ArrayList<>();
    private int added;

    private Collector(ErrorHandler<DeadLetter, ?> handler) {
      this.handler = handler;
    }

    /**
     * A handler to give a Beam IO ({@code withBadRecordErrorHandler}): the {@code BadRecord}s it
     * collects are converted to dead letters of {@code step} and added here when this closes.
     */
    public ErrorHandler<BadRecord, PCollection<DeadLetter>> forBeamIo(
        Pipeline pipeline, String pipelineName, String step, FailureReason reason) {
      BeamBadRecords beam =
          new BeamBadRecords(pipeline, step, BadRecords.toDeadLetters(pipelineName, step, reason));
      beamHandlers.add(beam);
      return beam;
    }

    /** Adds a step's dead letters. */
    public void add(PCollection<DeadLetter> deadLetters) {
      handler.addErrorCollection(
          deadLetters
              .apply(
                  "CollectDeadLetters" + (added++ == 0 ? "" : String.valueOf(added)),
                  globalWindow())
              .setCoder(DeadLetters.coder()));
    }

    /** Wires the sink; call once every step has added its dead letters, before running. */
    @Override
    public void close() {
      for (BeamBadRecords beam : beamHandlers) {
        beam.close();
        PCollection<DeadLetter> converted = beam.getOutput();
        if (converted != null) {
          add(converted);
        }
      }
      try {
        handler.close();
      } catch (Exception e) {
        throw new IllegalStateException("cannot close the dead-letter handler", e);
      }
    }
  }

  /**
   * The handler given to a Beam IO: collects its {@code BadRecord}s and, on close, converts them to
   * dead letters under names of its own (so several can live in one pipeline).
   */
  static final class BeamBadRecords implements ErrorHandler<BadRecord, PCollection<DeadLetter>> {
    private final Pipeline pipeline;
    private final String step;
    private final BadRecords convert;
    private final List<PCollection<BadRecord>> collections = new ArrayList<>();
    private PCollection<DeadLetter> output;
    private boolean closed;

    BeamBadRecords(Pipeline pipeline, String step, BadRecords convert) {
      this.pipeline = pipeline;
      this.step = step;
      this.convert = convert;
    }

    @Override
    public void addErrorCollection(PCollection<BadRecord> errors) {
      collections.add(errors);
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public PCollection<DeadLetter> getOutput() {
      return output;
    }

    @Override
    public void close() {
      closed = true;
      if (!collections.isEmpty()) {
        output =
            PCollectionList.of(collections)
                .apply("Flatten" + step + "BadRecords", Flatten.pCollections())
                .apply(step + "BadRecordsToDeadLetters", convert);
      }
    }
  }

  /** Counts each dead letter under the pipeline's accounting, then writes it to the sink. */
  static final class CountThenWrite<OutputT extends POutput>
      extends PTransform<PCollection<DeadLetter>, OutputT> {
    private final Accounting accounting;
    private final PTransform<PCollection<DeadLetter>, OutputT> sink;
    private final @Nullable Pii pii;

    CountThenWrite(
        Accounting accounting,
        PTransform<PCollection<DeadLetter>, OutputT> sink,
        @Nullable Pii pii) {
      super("DeadLetters");
      this.accounting = accounting;
      this.sink = sink;
      this.pii = pii;
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder.include("sink", sink);
    }

    @Override
    public OutputT expand(PCollection<DeadLetter> deadLetters) {
      PCollection<DeadLetter> counted =
          deadLetters
              .apply("Count", ParDo.of(new CountFn(accounting)))
              .setCoder(DeadLetters.coder());
      if (pii != null) {
        counted = counted.apply("Seal", ParDo.of(new SealFn(pii))).setCoder(DeadLetters.coder());
      }
      return counted.apply("Write", sink);
    }
  }

  /** Seals each dead letter: its payload encrypted, its preview and messages redacted. */
  static final class SealFn extends DoFn<DeadLetter, DeadLetter> {
    private final Pii pii;

    SealFn(Pii pii) {
      this.pii = pii;
    }

    @ProcessElement
    public void process(@Element DeadLetter deadLetter, OutputReceiver<DeadLetter> out) {
      out.output(pii.seal(deadLetter));
    }
  }

  static final class CountFn extends DoFn<DeadLetter, DeadLetter> {
    private final Accounting accounting;

    CountFn(Accounting accounting) {
      this.accounting = accounting;
    }

    @ProcessElement
    public void process(@Element DeadLetter deadLetter, OutputReceiver<DeadLetter> out) {
      accounting.deadLettered(deadLetter.getStep(), deadLetter.getReason());
      out.output(deadLetter);
    }
  }
}

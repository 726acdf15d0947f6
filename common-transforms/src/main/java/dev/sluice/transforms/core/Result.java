package dev.sluice.transforms.core;

import dev.sluice.schemas.DeadLetter;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.TupleTag;

/**
 * What a step that can fail per record returns: its good output and its dead letters, together. The
 * dead letters go to the pipeline's dead-letter handler; nothing is swallowed.
 */
public final class Result<T> implements POutput {
  private final Pipeline pipeline;
  private final TupleTag<T> outputTag;
  private final PCollection<T> output;
  private final TupleTag<DeadLetter> deadLetterTag;
  private final PCollection<DeadLetter> deadLetters;

  private Result(
      Pipeline pipeline,
      TupleTag<T> outputTag,
      PCollection<T> output,
      TupleTag<DeadLetter> deadLetterTag,
      PCollection<DeadLetter> deadLetters) {
    this.pipeline = pipeline;
    this.outputTag = outputTag;
    this.output = output;
    this.deadLetterTag = deadLetterTag;
    this.deadLetters = deadLetters;
  }

  /** The result held in a multi-output ParDo's tuple. */
  public static <T> Result<T> of(
      PCollectionTuple tuple, TupleTag<T> outputTag, TupleTag<DeadLetter> deadLetterTag) {
    return new Result<>(
        tuple.getPipeline(),
        outputTag,
        tuple.get(outputTag),
        deadLetterTag,
        tuple.get(deadLetterTag));
  }

  /** The result of a composite step whose good output and dead letters come from several steps. */
  public static <T> Result<T> of(PCollection<T> output, PCollection<DeadLetter> deadLetters) {
    return new Result<>(
        output.getPipeline(),
        new TupleTag<T>() {},
        output,
        new TupleTag<DeadLetter>() {},
        deadLetters);
  }

  public PCollection<T> output() {
    return output;
  }

  public PCollection<DeadLetter> deadLetters() {
    return deadLetters;
  }

  @Override
  public Pipeline getPipeline() {
    return pipeline;
  }

  @Override
  public Map<TupleTag<?>, PValue> expand() {
    return Map.of(outputTag, output, deadLetterTag, deadLetters);
  }

  @Override
  public void finishSpecifyingOutput(
      String transformName, PInput input, PTransform<?, ?> transform) {}
}

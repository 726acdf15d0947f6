package dev.sluice.pipelines.run;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.reflect.DoFnSignatures;

/**
 * Steps that need stable input ({@link DoFn.RequiresStableInput}: a stream's exactly-once Iceberg
 * commits) get it on Flink from checkpoints only: a stream on Flink with such a step and no {@code
 * --checkpointingInterval} is refused before anything is read, naming the option, rather than
 * failing on the cluster once submitted.
 */
final class StableInput {
  static final String FLINK_OPTIONS = "org.apache.beam.runners.flink.FlinkPipelineOptions";

  private StableInput() {}

  static void check(Pipeline pipeline, PipelineOptions options) {
    if (!options.getRunner().getSimpleName().equals("FlinkRunner")
        || !options.as(StreamingOptions.class).isStreaming()) {
      return;
    }
    List<String> steps = steps(pipeline);
    if (!steps.isEmpty() && checkpointingInterval(options) <= 0) {
      throw new IllegalArgumentException(
          "--checkpointingInterval is needed: on Flink a stream commits exactly once per completed"
              + " checkpoint (steps "
              + String.join(", ", steps)
              + "); give --checkpointingInterval=<milliseconds>, for example 10000");
    }
  }

  /** The full names of the steps whose input must be stable. */
  static List<String> steps(Pipeline pipeline) {
    List<String> steps = new ArrayList<>();
    pipeline.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            if (node.getTransform() instanceof ParDo.MultiOutput<?, ?> parDo
                && DoFnSignatures.getSignature(parDo.getFn().getClass())
                    .processElement()
                    .requiresStableInput()) {
              steps.add(node.getFullName());
            }
          }
        });
    return steps;
  }

  /** Flink's {@code --checkpointingInterval} (milliseconds; -1 when not given). */
  @SuppressWarnings("unchecked")
  private static long checkpointingInterval(PipelineOptions options) {
    try {
      Class<? extends PipelineOptions> flink =
          (Class<? extends PipelineOptions>)
              Class.forName(FLINK_OPTIONS, true, options.getRunner().getClassLoader());
      Object interval = flink.getMethod("getCheckpointingInterval").invoke(options.as(flink));
      return interval == null ? -1 : ((Number) interval).longValue();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read Flink's --checkpointingInterval: " + e, e);
    }
  }
}

package dev.sluice.pipelines.core;

import org.apache.beam.sdk.Pipeline;

/**
 * A pipeline of the catalog: its name on the command line, a one-line description, its options, and
 * how it builds its graph. Running it on a runner is {@link PipelineRun}'s job.
 */
public interface SluicePipeline<O extends SluiceOptions> {
  /** The name users type, e.g. {@code files-to-lake}; also the namespace of its counters. */
  String name();

  /** One line for the catalog. */
  String description();

  /** The lineage sentence for the README and {@code --help}: what it reads, checks and writes. */
  String lineage();

  Class<O> optionsClass();

  /**
   * Checks the options (failing with {@link IllegalArgumentException} naming the bad one, before
   * anything is read) and builds the graph into {@code pipeline}.
   */
  RunPlan build(Pipeline pipeline, O options);
}

package dev.sluice.pipelines.plan;

import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.metrics.ConsumerLag;
import dev.sluice.pipelines.options.SluiceOptions;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.beam.sdk.Pipeline;

/**
 * A pipeline of the catalog: its name on the command line, a one-line description, its options, and
 * how it runs, in two parts:
 *
 * <ol>
 *   <li>{@link #plan}: checks the options and asks the outside world what the run needs (the
 *       table's columns, the offsets or the watermark range to read, the files to load), changing
 *       nothing, and returns it all as a plain serializable value;
 *   <li>{@link #build}: wires the graph from that value alone, opening no connection.
 * </ol>
 *
 * Effects around the run (create or merge a staging table, publish, commit offsets or a watermark)
 * are named {@link RunPlan.Step}s of the plan, carried out by {@code PipelineRun}.
 */
public interface SluicePipeline<O extends SluiceOptions, P extends SluicePipeline.Plan> {
  /** A pipeline's plan: what {@link #build} needs, and the run's own part. */
  interface Plan extends Serializable {
    RunPlan run();

    /**
     * Which personal-data policy the run applies to which field ({@code email -> token}), in the
     * contract's order; empty when its contract has none.
     */
    default Map<String, String> personalData() {
      return Map.of();
    }
  }

  /** The name users type, e.g. {@code files-to-lake}; also the namespace of its counters. */
  String name();

  /** One line for the catalog. */
  String description();

  /** The lineage sentence for the README and {@code --help}: what it reads, checks and writes. */
  String lineage();

  Class<O> optionsClass();

  /**
   * Checks the options (failing with {@link IllegalArgumentException} naming the bad one, before
   * anything is read), reads what the run needs from its services, and returns the plan. Changes
   * nothing outside: effects are the plan's steps.
   */
  P plan(O options);

  /** Builds the graph of {@code plan} into {@code pipeline}; opens no connection. */
  void build(Pipeline pipeline, P plan);

  /**
   * Why these options cannot be frozen into a classic template (a graph built now and run later
   * without this launcher), or empty when they can: a run that plans what it reads at launch, or
   * has steps around the run, needs a launcher (the Flex Template's plans at launch).
   */
  default Optional<String> needsLauncher(O options) {
    return Optional.empty();
  }

  /** The datasets a run of {@code plan} reads, named for OpenLineage. */
  default List<LineageDataset> lineageInputs(P plan) {
    return List.of();
  }

  /** The datasets it writes, its main output first (dead letters last). */
  default List<LineageDataset> lineageOutputs(P plan) {
    return List.of();
  }

  /**
   * A Kafka source's consumer lag, for {@code /metrics} ({@code --metricsPort}); empty when the run
   * reads no Kafka topic with a consumer group.
   */
  default Optional<ConsumerLag> consumerLag(P plan) {
    return Optional.empty();
  }

  /**
   * The plan of a bounded run that feeds {@code replay}'s records through this pipeline's steps
   * (parse, rules, sink) in place of its source, leaving the source alone (no offsets, no
   * watermark). Its outputs are named after the replay, and records that fail again are
   * dead-lettered with the next attempt.
   *
   * @throws IllegalArgumentException when this pipeline's dead letters cannot be replayed
   */
  default P planReplay(O options, Replay replay) {
    throw new IllegalArgumentException(name() + " cannot replay dead letters");
  }
}

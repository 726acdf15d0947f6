package dev.sluice.transforms.core;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Counts made by a step that cannot count itself, carried as an element to {@link #count()}, which
 * adds them to the pipeline's counters. A step with stable input ({@code @RequiresStableInput}: an
 * exactly-once commit) runs, on Flink, when a checkpoint completes, outside the scope in which
 * Beam's metrics reach Flink: what it counted there would be lost.
 */
public final class Tally implements Serializable {
  /** The output of a step's tallies. */
  public static final TupleTag<Tally> TAG = new TupleTag<>("tallies") {};

  private final String namespace;
  private final Map<String, Long> counts = new TreeMap<>();

  private Tally(String namespace) {
    this.namespace = namespace;
  }

  /** An empty tally of the counters of {@code namespace} (a pipeline's name). */
  public static Tally of(String namespace) {
    return new Tally(namespace);
  }

  /** Adds {@code count} to {@code counter}. */
  public Tally add(String counter, long count) {
    if (count > 0) {
      counts.merge(counter, count, Long::sum);
    }
    return this;
  }

  /** {@code count} records written. */
  public Tally written(long count) {
    return add(Accounting.WRITTEN, count);
  }

  /** {@code count} records intentionally dropped for {@code cause}, as {@link Accounting} does. */
  public Tally filtered(String cause, long count) {
    add(Accounting.FILTERED, count);
    return add(Accounting.FILTERED_BY + cause, count);
  }

  public Map<String, Long> counts() {
    return Map.copyOf(counts);
  }

  public boolean isEmpty() {
    return counts.isEmpty();
  }

  /** Adds each tally of a step's {@link #TAG} output to its counters (a step named Count). */
  public static void count(PCollectionTuple outputs) {
    outputs
        .get(TAG)
        .setCoder(SerializableCoder.of(Tally.class))
        .apply("Count", ParDo.of(new CountFn()));
  }

  private static final class CountFn extends DoFn<Tally, Void> {
    @ProcessElement
    public void process(@Element Tally tally) {
      tally.counts.forEach(
          (counter, count) -> Metrics.counter(tally.namespace, counter).inc(count));
    }
  }

  @Override
  public String toString() {
    return namespace + counts;
  }
}

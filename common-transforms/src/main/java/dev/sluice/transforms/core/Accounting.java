package dev.sluice.transforms.core;

import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * The counters that account for every record of a run, under one namespace per pipeline.
 *
 * <p>A bounded run must satisfy {@code read = written + dead_lettered + filtered}; {@code
 * RunSummary} checks it from these counters.
 */
public final class Accounting implements Serializable {
  public static final String READ = "read";
  public static final String WRITTEN = "written";
  public static final String FILTERED = "filtered";
  public static final String DEAD_LETTERED = "dead_lettered";

  /**
   * Records an aggregating transform took in: they are accounted for by the aggregate rows written,
   * so a run that aggregates satisfies {@code read = aggregated + dead_lettered + filtered}.
   */
  public static final String AGGREGATED = "aggregated";

  /**
   * Dead letters a replay selected and fed through the pipeline again (each also counts as read).
   */
  public static final String REPLAY_SELECTED = "replay.selected";

  /** Prefix of the per-reason dead-letter counters, e.g. {@code dead_lettered.reason.parse}. */
  public static final String BY_REASON = DEAD_LETTERED + ".reason.";

  /** Prefix of the per-step dead-letter counters, e.g. {@code dead_lettered.step.Parse}. */
  public static final String BY_STEP = DEAD_LETTERED + ".step.";

  /** Prefix of the per-cause filtered counters, e.g. {@code filtered.blank}. */
  public static final String FILTERED_BY = FILTERED + ".";

  private final String namespace;

  private Accounting(String namespace) {
    this.namespace = namespace;
  }

  /** The accounting of the named pipeline; its name is the counters' namespace. */
  public static Accounting of(String pipeline) {
    Objects.requireNonNull(pipeline, "pipeline");
    return new Accounting(pipeline);
  }

  public String namespace() {
    return namespace;
  }

  public Counter read() {
    return Metrics.counter(namespace, READ);
  }

  public Counter replaySelected() {
    return Metrics.counter(namespace, REPLAY_SELECTED);
  }

  public Counter written() {
    return Metrics.counter(namespace, WRITTEN);
  }

  /** Counts one record that was intentionally dropped (e.g. a blank line), by cause. */
  public void filtered(String cause) {
    filtered(cause, 1);
  }

  /** Counts {@code count} records intentionally dropped for the same cause. */
  public void filtered(String cause, long count) {
    if (count > 0) {
      Metrics.counter(namespace, FILTERED).inc(count);
      Metrics.counter(namespace, FILTERED_BY + cause).inc(count);
    }
  }

  /**
   * Adds {@code delta} (which may be negative) to the records filtered for {@code cause}: a step
   * that cannot see which records it leaves out (a SQL WHERE) counts each record it takes in and
   * takes back each one that comes out, so that what remains is what it left out.
   */
  public void filteredPending(String cause, long delta) {
    Metrics.counter(namespace, FILTERED).inc(delta);
    Metrics.counter(namespace, FILTERED_BY + cause).inc(delta);
  }

  /** Adds {@code delta} (negative for one that failed after all) to the records aggregated. */
  public void aggregated(long delta) {
    Metrics.counter(namespace, AGGREGATED).inc(delta);
  }

  /** Counts one dead letter, in total and by its step and reason. */
  public void deadLettered(String step, String reason) {
    Metrics.counter(namespace, DEAD_LETTERED).inc();
    Metrics.counter(namespace, BY_REASON + reason).inc();
    Metrics.counter(namespace, BY_STEP + step).inc();
  }
}

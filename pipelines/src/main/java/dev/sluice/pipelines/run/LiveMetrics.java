package dev.sluice.pipelines.run;

import dev.sluice.pipelines.report.PipelineMetrics;
import java.io.IOException;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;

/**
 * A running job's figures, read while it runs: the counters and gauges of the pipeline's namespace
 * so far, summed over steps. {@link MetricsEndpoint} asks for them on each scrape.
 */
public interface LiveMetrics {
  /** The figures now; empty before the runner has any. */
  Figures read() throws IOException, InterruptedException;

  /** Counters and gauges by name (e.g. {@code read}, {@code dead_lettered.reason.parse}). */
  record Figures(Map<String, Long> counters, Map<String, Long> gauges) {
    public static final Figures NONE = new Figures(Map.of(), Map.of());
  }

  /**
   * The runner's own view of a job it returned (the Direct runner's metrics are attempted values,
   * updated as bundles commit).
   */
  static LiveMetrics of(PipelineResult result, String namespace) {
    return () -> {
      PipelineMetrics metrics = new PipelineMetrics(result.metrics(), namespace);
      return new Figures(metrics.counters(), metrics.gauges());
    };
  }
}

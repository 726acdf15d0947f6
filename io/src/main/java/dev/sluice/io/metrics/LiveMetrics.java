package dev.sluice.io.metrics;

import java.io.IOException;
import java.util.Map;

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
}

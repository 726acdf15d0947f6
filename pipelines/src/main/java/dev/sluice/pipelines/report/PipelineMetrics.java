package dev.sluice.pipelines.report;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.metrics.StringSetResult;

/**
 * A pipeline's metrics after a run, by name, summed over steps: committed values where the runner
 * has them, attempted ones otherwise. The run summary and the quality report both read them here.
 */
public final class PipelineMetrics {
  private final MetricQueryResults results;

  public PipelineMetrics(MetricResults metrics, String namespace) {
    this.results =
        metrics.queryMetrics(
            MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(namespace)).build());
  }

  private static <T> T value(MetricResult<T> result) {
    T committed = result.getCommittedOrNull();
    return committed != null ? committed : result.getAttempted();
  }

  /** Every counter of the namespace, by name. */
  public Map<String, Long> counters() {
    Map<String, Long> counters = new TreeMap<>();
    for (MetricResult<Long> counter : results.getCounters()) {
      counters.merge(counter.getName().getName(), value(counter), Long::sum);
    }
    return counters;
  }

  /** Every gauge of the namespace, by name: the newest value any step set. */
  public Map<String, Long> gauges() {
    Map<String, Long> gauges = new TreeMap<>();
    Map<String, org.joda.time.Instant> when = new TreeMap<>();
    for (MetricResult<GaugeResult> gauge : results.getGauges()) {
      GaugeResult value = value(gauge);
      String name = gauge.getName().getName();
      if (!when.containsKey(name) || value.getTimestamp().isAfter(when.get(name))) {
        when.put(name, value.getTimestamp());
        gauges.put(name, value.getValue());
      }
    }
    return gauges;
  }

  public long counter(String name) {
    return counters().getOrDefault(name, 0L);
  }

  /** The largest value a distribution saw, or null when it saw none. */
  public Long max(String name) {
    Long max = null;
    for (MetricResult<DistributionResult> d : results.getDistributions()) {
      DistributionResult value = value(d);
      if (d.getName().getName().equals(name) && value.getCount() > 0) {
        max = max == null ? value.getMax() : Math.max(max, value.getMax());
      }
    }
    return max;
  }

  /** The strings a string set collected, sorted. */
  public List<String> strings(String name) {
    Set<String> out = new TreeSet<>();
    for (MetricResult<StringSetResult> s : results.getStringSets()) {
      if (s.getName().getName().equals(name)) {
        out.addAll(value(s).getStringSet());
      }
    }
    return List.copyOf(out);
  }
}

package dev.sluice.io.metrics;

import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.rules.ApplyRules;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code /metrics} in the Prometheus text format while a run lasts ({@code --metricsPort}).
 * Each scrape reads the run's figures afresh from its {@link LiveMetrics} and, for a Kafka source,
 * the consumer group's lag; the Prometheus Java client writes the format.
 *
 * <p>Names: {@code sluice_records_read_total}, {@code sluice_records_written_total}, {@code
 * sluice_records_dead_lettered_total} and {@code sluice_records_filtered_total}; {@code
 * sluice_dead_letters_by_reason_total{reason}}, {@code sluice_dead_letters_by_step_total{step}},
 * {@code sluice_filtered_by_reason_total{reason}}; {@code sluice_rule_evaluated_total{rule}} and
 * {@code sluice_rule_failed_total{rule}}; the streaming windowed rules' {@code
 * sluice_window_rule_observed{rule}}, {@code sluice_window_rule_windows_total{rule}} and {@code
 * sluice_window_rule_failed_windows_total{rule}}; {@code sluice_replay_selected_total}; {@code
 * sluice_run_state{state}} (1 for the current state), {@code sluice_run_duration_seconds}; {@code
 * sluice_kafka_consumer_lag{topic,partition}}; any other counter or gauge as {@code
 * sluice_counter_total{name}} or {@code sluice_gauge{name}}; and {@code sluice_live_metrics_up} (0
 * when the runner could not be asked). Every point carries the {@code pipeline} label.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);
  private static final List<String> STATES =
      List.of("STARTING", "RUNNING", "DONE", "FAILED", "CANCELLED");

  private final String pipeline;
  private final @Nullable ConsumerLag lag;
  private final long started = System.currentTimeMillis();
  private final HTTPServer server;
  private volatile @Nullable LiveMetrics live;
  private volatile String state = "STARTING";
  private volatile LiveMetrics.Figures last = LiveMetrics.Figures.NONE;

  private MetricsEndpoint(String pipeline, @Nullable ConsumerLag lag, int port) throws IOException {
    this.pipeline = pipeline;
    this.lag = lag;
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register((MultiCollector) this::collect);
    this.server = HTTPServer.builder().port(port).registry(registry).buildAndStart();
  }

  /** Serves {@code /metrics} of a run of {@code pipeline} on {@code port} (0: any free port). */
  public static MetricsEndpoint start(String pipeline, @Nullable ConsumerLag lag, int port)
      throws IOException {
    return new MetricsEndpoint(pipeline, lag, port);
  }

  public int port() {
    return server.getPort();
  }

  /** From now on, scrapes read {@code metrics}. */
  public void watch(LiveMetrics metrics) {
    this.live = metrics;
  }

  public boolean watching() {
    return live != null;
  }

  /** The run's state, e.g. RUNNING or DONE. */
  public void state(String state) {
    this.state = state;
  }

  @Override
  public void close() {
    server.close();
  }

  private MetricSnapshots collect() {
    LiveMetrics source = live;
    boolean up = true;
    if (source != null) {
      try {
        last = source.read();
      } catch (IOException | RuntimeException e) {
        up = false;
        LOG.warn("{}: live metrics not read ({}); serving the last ones", pipeline, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        up = false;
      }
    }
    List<MetricSnapshot> snapshots = new ArrayList<>(snapshots(pipeline, last));
    Labels labels = Labels.of("pipeline", pipeline);
    snapshots.add(
        gauge("sluice_live_metrics_up", "1 when the runner answered", labels, up ? 1 : 0));
    GaugeSnapshot.Builder states =
        GaugeSnapshot.builder().name("sluice_run_state").help("1 for the run's current state");
    for (String s : STATES) {
      states.dataPoint(point(labels.add("state", s), s.equals(state) ? 1 : 0));
    }
    snapshots.add(states.build());
    snapshots.add(
        gauge(
            "sluice_run_duration_seconds",
            "Seconds since the run started",
            labels,
            (System.currentTimeMillis() - started) / 1000.0));
    if (lag != null) {
      try {
        GaugeSnapshot.Builder lags =
            GaugeSnapshot.builder()
                .name("sluice_kafka_consumer_lag")
                .help("Records after the consumer group's committed offset, by partition");
        for (Map.Entry<Integer, Long> e : lag.byPartition().call().entrySet()) {
          lags.dataPoint(
              point(
                  labels.add("topic", lag.topic()).add("partition", String.valueOf(e.getKey())),
                  e.getValue()));
        }
        snapshots.add(lags.build());
      } catch (Exception e) {
        LOG.warn("{}: consumer lag not read: {}", pipeline, e.toString());
      }
    }
    return new MetricSnapshots(snapshots);
  }

  /** The Prometheus metrics of a run's figures (see the class comment for the names). */
  static List<MetricSnapshot> snapshots(String pipeline, LiveMetrics.Figures figures) {
    Labels base = Labels.of("pipeline", pipeline);
    Map<String, CounterSnapshot.Builder> counters = new LinkedHashMap<>();
    for (Map.Entry<String, Long> c : figures.counters().entrySet()) {
      String name = c.getKey();
      double value = c.getValue();
      if (name.equals(Accounting.READ)) {
        counter(counters, "sluice_records_read", "Records read", base, value);
      } else if (name.equals(Accounting.WRITTEN)) {
        counter(counters, "sluice_records_written", "Records written", base, value);
      } else if (name.equals(Accounting.DEAD_LETTERED)) {
        counter(counters, "sluice_records_dead_lettered", "Records dead-lettered", base, value);
      } else if (name.equals(Accounting.FILTERED)) {
        counter(counters, "sluice_records_filtered", "Records filtered out", base, value);
      } else if (name.equals(Accounting.REPLAY_SELECTED)) {
        counter(counters, "sluice_replay_selected", "Dead letters fed again", base, value);
      } else if (name.startsWith(Accounting.BY_REASON)) {
        counter(
            counters,
            "sluice_dead_letters_by_reason",
            "Records dead-lettered, by reason",
            base.add("reason", name.substring(Accounting.BY_REASON.length())),
            value);
      } else if (name.startsWith(Accounting.BY_STEP)) {
        counter(
            counters,
            "sluice_dead_letters_by_step",
            "Records dead-lettered, by step",
            base.add("step", name.substring(Accounting.BY_STEP.length())),
            value);
      } else if (name.startsWith(Accounting.FILTERED_BY)) {
        counter(
            counters,
            "sluice_filtered_by_reason",
            "Records filtered out, by reason",
            base.add("reason", name.substring(Accounting.FILTERED_BY.length())),
            value);
      } else if (name.startsWith(ApplyRules.COUNTER_PREFIX) && name.endsWith(".evaluated")) {
        counter(
            counters,
            "sluice_rule_evaluated",
            "Records a rule judged",
            base.add("rule", between(name, ApplyRules.COUNTER_PREFIX, ".evaluated")),
            value);
      } else if (name.startsWith(ApplyRules.COUNTER_PREFIX) && name.endsWith(".failed")) {
        counter(
            counters,
            "sluice_rule_failed",
            "Records a rule failed",
            base.add("rule", between(name, ApplyRules.COUNTER_PREFIX, ".failed")),
            value);
      } else if (name.startsWith(ApplyRules.WINDOW_PREFIX) && name.endsWith(".failed_windows")) {
        counter(
            counters,
            "sluice_window_rule_failed_windows",
            "Windows in which a dataset rule failed",
            base.add("rule", between(name, ApplyRules.WINDOW_PREFIX, ".failed_windows")),
            value);
      } else if (name.startsWith(ApplyRules.WINDOW_PREFIX) && name.endsWith(".windows")) {
        counter(
            counters,
            "sluice_window_rule_windows",
            "Windows in which a dataset rule was judged",
            base.add("rule", between(name, ApplyRules.WINDOW_PREFIX, ".windows")),
            value);
      } else {
        counter(
            counters,
            "sluice_counter",
            "Other counters of the run, by name",
            base.add("name", name),
            value);
      }
    }
    List<MetricSnapshot> out = new ArrayList<>();
    counters.values().forEach(b -> out.add(b.build()));
    Map<String, GaugeSnapshot.Builder> gauges = new LinkedHashMap<>();
    for (Map.Entry<String, Long> g : figures.gauges().entrySet()) {
      String name = g.getKey();
      boolean window = isWindowGauge(name);
      gauges
          .computeIfAbsent(
              window ? "sluice_window_rule_observed" : "sluice_gauge",
              n ->
                  GaugeSnapshot.builder()
                      .name(n)
                      .help(
                          window
                              ? "The newest window's observed value of a dataset rule"
                              : "Other gauges of the run, by name"))
          .dataPoint(
              point(
                  window
                      ? base.add("rule", between(name, ApplyRules.WINDOW_PREFIX, ".observed"))
                      : base.add("name", name),
                  g.getValue()));
    }
    gauges.values().forEach(b -> out.add(b.build()));
    return out;
  }

  /** Whether a metric of that name is a gauge (the rest are counters). */
  public static boolean isWindowGauge(String name) {
    return name.startsWith(ApplyRules.WINDOW_PREFIX) && name.endsWith(".observed");
  }

  private static String between(String name, String prefix, String suffix) {
    return name.substring(prefix.length(), name.length() - suffix.length());
  }

  private static void counter(
      Map<String, CounterSnapshot.Builder> counters,
      String name,
      String help,
      Labels labels,
      double value) {
    counters
        .computeIfAbsent(name, n -> CounterSnapshot.builder().name(n).help(help))
        .dataPoint(
            CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels).value(value).build());
  }

  private static GaugeSnapshot gauge(String name, String help, Labels labels, double value) {
    return GaugeSnapshot.builder().name(name).help(help).dataPoint(point(labels, value)).build();
  }

  private static GaugeSnapshot.GaugeDataPointSnapshot point(Labels labels, double value) {
    return GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
  }
}

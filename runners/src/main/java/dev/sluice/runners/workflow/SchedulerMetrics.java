package dev.sluice.runners.workflow;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import javax.annotation.Nullable;

/**
 * The scheduler's metrics, in the Prometheus text format on {@code /metrics} when a port is given:
 *
 * <ul>
 *   <li>{@code sluice_workflow_runs_total{workflow,job,state}}: job intervals that ended, by state
 *       ({@code succeeded}, {@code failed} after their retries, {@code upstream_failed});
 *   <li>{@code sluice_workflow_retries_total{workflow,job}}: attempts after a failure;
 *   <li>{@code sluice_workflow_alerts_total{workflow,job,kind}}: alerts sent ({@code failed},
 *       {@code upstream_failed}, {@code sla_missed}); {@code kind="sla_missed"} counts SLA misses;
 *   <li>{@code sluice_workflow_next_fire_timestamp_seconds{workflow,job}}: the next fire time;
 *   <li>{@code sluice_workflow_last_success_timestamp_seconds{workflow,job}}: when the job last
 *       succeeded, and {@code sluice_workflow_freshness_sla_seconds{workflow,job}} its freshness
 *       SLA, for the rule that alerts on staleness;
 *   <li>{@code sluice_scheduler_up}: 1 while the scheduler runs (Prometheus's own {@code up} says
 *       when it is gone).
 * </ul>
 */
public final class SchedulerMetrics implements AutoCloseable {
  private final Map<Labels, DoubleAdder> runs = new ConcurrentHashMap<>();
  private final Map<Labels, DoubleAdder> retries = new ConcurrentHashMap<>();
  private final Map<Labels, DoubleAdder> alerts = new ConcurrentHashMap<>();
  private final Map<Labels, Double> nextFire = new ConcurrentHashMap<>();
  private final Map<Labels, Double> lastSuccess = new ConcurrentHashMap<>();
  private final Map<Labels, Double> freshness = new ConcurrentHashMap<>();
  private @Nullable HTTPServer server;

  /** Metrics kept in memory only. */
  public SchedulerMetrics() {}

  /** Serves them on {@code port} (0: any free port). */
  public SchedulerMetrics serve(int port) throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register((MultiCollector) this::collect);
    server = HTTPServer.builder().port(port).registry(registry).buildAndStart();
    return this;
  }

  /** The port {@code /metrics} is served on, or -1. */
  public int port() {
    return server == null ? -1 : server.getPort();
  }

  private static Labels job(String workflow, String job) {
    return Labels.of("workflow", workflow, "job", job);
  }

  void finished(String workflow, String job, String state) {
    runs.computeIfAbsent(job(workflow, job).add("state", state), k -> new DoubleAdder()).add(1);
  }

  void retried(String workflow, String job) {
    retries.computeIfAbsent(job(workflow, job), k -> new DoubleAdder()).add(1);
  }

  void alerted(String workflow, String job, String kind) {
    alerts.computeIfAbsent(job(workflow, job).add("kind", kind), k -> new DoubleAdder()).add(1);
  }

  void succeededAt(String workflow, String job, Instant when) {
    lastSuccess.put(job(workflow, job), when.toEpochMilli() / 1000.0);
  }

  void nextFire(String workflow, String job, @Nullable Instant when) {
    if (when != null) {
      nextFire.put(job(workflow, job), when.toEpochMilli() / 1000.0);
    }
  }

  void freshnessSla(String workflow, String job, double seconds) {
    freshness.put(job(workflow, job), seconds);
  }

  /** The value of a counter, for tests and the status line: runs by state, retries, alerts. */
  public double count(String metric, String workflow, String job, @Nullable String state) {
    Map<Labels, DoubleAdder> map =
        switch (metric) {
          case "runs" -> runs;
          case "retries" -> retries;
          default -> alerts;
        };
    Labels labels = job(workflow, job);
    if (state != null) {
      labels = labels.add(metric.equals("runs") ? "state" : "kind", state);
    }
    DoubleAdder value = map.get(labels);
    return value == null ? 0 : value.sum();
  }

  private MetricSnapshots collect() {
    List<io.prometheus.metrics.model.snapshots.MetricSnapshot> out = new ArrayList<>();
    out.add(counter("sluice_workflow_runs", "Job intervals that ended, by state", runs));
    out.add(counter("sluice_workflow_retries", "Attempts after a failure", retries));
    out.add(counter("sluice_workflow_alerts", "Alerts sent, by kind", alerts));
    out.add(gauge("sluice_workflow_next_fire_timestamp_seconds", "Next fire time", nextFire));
    out.add(
        gauge(
            "sluice_workflow_last_success_timestamp_seconds",
            "When the job last succeeded",
            lastSuccess));
    out.add(gauge("sluice_workflow_freshness_sla_seconds", "The job's freshness SLA", freshness));
    out.add(gauge("sluice_scheduler_up", "1 while the scheduler runs", Map.of(Labels.EMPTY, 1.0)));
    return new MetricSnapshots(out);
  }

  private static CounterSnapshot counter(String name, String help, Map<Labels, DoubleAdder> map) {
    CounterSnapshot.Builder builder = CounterSnapshot.builder().name(name).help(help);
    map.forEach(
        (labels, value) ->
            builder.dataPoint(
                CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(labels)
                    .value(value.sum())
                    .build()));
    return builder.build();
  }

  private static GaugeSnapshot gauge(String name, String help, Map<Labels, Double> map) {
    GaugeSnapshot.Builder builder = GaugeSnapshot.builder().name(name).help(help);
    map.forEach(
        (labels, value) ->
            builder.dataPoint(
                GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .labels(labels)
                    .value(value)
                    .build()));
    return builder.build();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop();
    }
  }
}

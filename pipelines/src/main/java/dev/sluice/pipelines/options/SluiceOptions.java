package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Hidden;
import org.apache.beam.sdk.options.PipelineOptions;

/** Options every Sluice pipeline has. */
public interface SluiceOptions extends PipelineOptions {
  @Description(
      "Where to write the JSON run report (counters, dead letters by reason, lineage); "
          + "defaults to a location the pipeline chooses next to its output")
  String getRunReport();

  void setRunReport(String value);

  @Description(
      "Directory of the run history: each bounded run records its counts, rules and result there,"
          + " and row_count_change/null_rate_change rules judge a run against it; defaults to"
          + " <output>/_sluice/history for lake pipelines, none for kafka-to-jdbc")
  String getRunHistory();

  void setRunHistory(String value);

  @Description(
      "Where to send OpenLineage run events (START, RUNNING, COMPLETE, FAIL): file:<dir> (JSON"
          + " lines in <dir>/openlineage.jsonl), http(s)://host:port/api/v1/lineage, or"
          + " kafka:<topic>; a backend that is down never fails the run")
  @OptionPattern("^(file:.+|https?://.+|kafka:.+)$")
  String getLineage();

  void setLineage(String value);

  @Description(
      "The deadline of one exchange with the --lineage backend (connect, send, its whole answer),"
          + " and the longest a run waits at its end for events not yet delivered: events go out"
          + " from a queue while the run goes on, so a slow or stalled backend costs a run at most"
          + " this (ISO-8601)")
  @Default.String("PT5S")
  String getLineageTimeout();

  void setLineageTimeout(String value);

  @Description(
      "Alertmanager's API v2 (http(s)://host:9093/api/v2/alerts) or any webhook taking its"
          + " payload: a run that fails (before it runs, while it runs, on a closed quality gate or"
          + " an accounting gap) sends one alert, labels alertname=SluiceRunFailed, pipeline, job,"
          + " reason (the run's result) and severity=critical, annotations message and run_id;"
          + " a run that publishes with failed warn rules sends alertname=SluiceRuleFailed,"
          + " severity=warning; a webhook that is down never fails the run")
  @OptionPattern("^https?://.+$")
  String getAlertWebhook();

  void setAlertWebhook(String value);

  @Description(
      "Run id (a UUID) of the orchestrator's run this one belongs to: sent as OpenLineage's"
          + " parent run facet")
  String getParentRunId();

  void setParentRunId(String value);

  @Description("The parent run's job, <namespace>/<name>; default sluice/parent")
  String getParentJob();

  void setParentJob(String value);

  @Description(
      "Serve /metrics in the Prometheus text format on this port while the run lasts (Direct,"
          + " Flink [local], and a Flink cluster run the launcher waits for): records read,"
          + " written, dead-lettered and filtered by reason, rule counts, windowed-quality gauges,"
          + " run state and duration, Kafka consumer lag. A detached Flink job uses Flink's own"
          + " Prometheus reporter instead")
  Integer getMetricsPort();

  void setMetricsPort(Integer value);

  /**
   * Where a Flink run's live metrics are read: the REST address ({@code host:port}) of the
   * JobManager running it. Set by the launcher for {@code --metricsPort}; null elsewhere.
   */
  @Hidden
  String getMetricsFlinkRest();

  void setMetricsFlinkRest(String value);

  @Description(
      "Unbounded runs: return once the job is submitted and leave it running on its cluster (a"
          + " Flink session cluster, Dataflow); stop it there (Flink's cancel, Dataflow's drain)."
          + " Bounded runs always wait for the end, to account for every record")
  @Default.Boolean(false)
  Boolean getDetached();

  void setDetached(Boolean value);
}

package dev.sluice.pipelines.run;

import dev.sluice.io.metrics.FlinkRestMetrics;
import dev.sluice.io.metrics.LiveMetrics;
import dev.sluice.io.metrics.MetricsEndpoint;
import dev.sluice.io.secrets.Redaction;
import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.pipelines.plan.Rules;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.report.PipelineMetrics;
import dev.sluice.pipelines.report.QualityReport;
import dev.sluice.pipelines.report.RunHistory;
import dev.sluice.pipelines.report.RunSummary;
import dev.sluice.transforms.rules.Verdict;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.StreamingOptions;

/**
 * Runs a catalog pipeline on whatever runner its options name, then accounts for the run: a bounded
 * run prints its summary, writes its JSON report and fails unless {@code read = written +
 * dead_lettered + filtered}.
 */
public final class PipelineRun {
  private PipelineRun() {}

  /** Thrown when a bounded run finished but did not account for every record. */
  public static final class AccountingException extends RuntimeException {
    private final RunSummary summary;

    AccountingException(RunSummary summary) {
      super(
          "Accounting check failed for "
              + summary.pipeline()
              + ": read "
              + summary.read()
              + " != written "
              + summary.written()
              + " + dead-lettered "
              + summary.deadLettered()
              + " + filtered "
              + summary.filtered()
              + " (gap "
              + summary.accountingGap()
              + ")");
      this.summary = summary;
    }

    public RunSummary summary() {
      return summary;
    }
  }

  /** Thrown when an error-severity data-quality rule failed: nothing was published. */
  public static final class QualityGateException extends RuntimeException {
    QualityGateException(String pipeline, QualityReport report) {
      super(
          "Quality gate closed for "
              + pipeline
              + ": "
              + report.failedErrors().size()
              + " error rule(s) failed; nothing was published\n"
              + report.failures());
    }
  }

  /** Thrown when the runner reports that the run did not finish successfully. */
  public static final class RunFailedException extends RuntimeException {
    RunFailedException(String message) {
      super(message);
    }

    RunFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** A pipeline's plan and the graph built from it, not yet running. */
  public record Built<P extends SluicePipeline.Plan>(Pipeline pipeline, P plan) {}

  /**
   * Plans the run (asking its services), then builds its graph on a pipeline made from {@code
   * options} (marked streaming when the plan is unbounded).
   */
  public static <O extends SluiceOptions, P extends SluicePipeline.Plan> Built<P> build(
      SluicePipeline<O, P> definition, O options) {
    return build(definition, options, definition.plan(options));
  }

  /**
   * Builds the graph of a plan made already (e.g. a replay's) on a pipeline from {@code options}.
   */
  public static <O extends SluiceOptions, P extends SluicePipeline.Plan> Built<P> build(
      SluicePipeline<O, P> definition, O options, P plan) {
    Rules.checkHistory(plan.run().quality(), plan.run().runHistory());
    checkHistoryReadable(definition.name(), plan.run());
    if (!plan.run().bounded()) {
      options.as(StreamingOptions.class).setStreaming(true);
    }
    Pipeline pipeline = Pipeline.create(options);
    definition.build(pipeline, plan);
    StableInput.check(pipeline, options);
    return new Built<>(pipeline, plan);
  }

  /**
   * Reads the run history now, while planning, when a rule will judge the run against it: a history
   * that cannot be read fails before anything is read or staged, naming the file.
   */
  private static void checkHistoryReadable(String pipeline, RunPlan plan) {
    if (plan.quality() == null
        || plan.runHistory() == null
        || plan.quality().datasetRules().stream().noneMatch(r -> r.needsHistory())) {
      return;
    }
    try {
      RunHistory.read(plan.runHistory(), pipeline);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--runHistory=" + plan.runHistory() + ": " + e.getMessage(), e);
    }
  }

  public static <O extends SluiceOptions, P extends SluicePipeline.Plan> RunSummary run(
      SluicePipeline<O, P> definition, O options, PrintStream out) throws IOException {
    Instant started = Instant.now();
    P planned;
    try {
      planned = definition.plan(options);
    } catch (RuntimeException e) {
      throw failedUnplanned(definition, options, out, e, started);
    }
    return run(definition, options, out, planned);
  }

  /** Runs a plan made already (e.g. a replay's): its steps, the run, its accounting and gate. */
  public static <O extends SluiceOptions, P extends SluicePipeline.Plan> RunSummary run(
      SluicePipeline<O, P> definition, O options, PrintStream out, P planned) throws IOException {
    Instant started = Instant.now();
    Built<P> built;
    try {
      built = build(definition, options, planned);
    } catch (RuntimeException e) {
      throw failedUnplanned(definition, options, out, e, started);
    }
    RunPlan plan = built.plan().run();
    OpenLineageRun lineage = OpenLineageRun.of(definition, options, built.plan());
    RunAlerts alerts = RunAlerts.of(definition.name(), options);
    Outcome outcome = new Outcome();
    outcome.metrics = metricsEndpoint(definition, options, built.plan(), out);
    ScheduledExecutorService heartbeat = null;
    if (lineage != null) {
      lineage.start();
      if (!plan.bounded() && !options.getDetached()) {
        heartbeat =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "sluice-lineage-running");
                  t.setDaemon(true);
                  return t;
                });
        heartbeat.scheduleAtFixedRate(
            lineage::running,
            LINEAGE_RUNNING_EVERY.toMillis(),
            LINEAGE_RUNNING_EVERY.toMillis(),
            TimeUnit.MILLISECONDS);
      }
    }
    try {
      for (RunPlan.Step step : plan.prepare()) {
        try {
          step.run(null);
        } catch (Exception e) {
          throw new RunFailedException(
              definition.name() + " could not " + step.name() + ": " + e.getMessage(), e);
        }
      }
      RunSummary summary =
          run(
              definition,
              options,
              out,
              built.pipeline(),
              plan,
              outcome,
              built.plan().personalData());
      if (lineage != null && summary != null) {
        lineage.complete(outcome.summary, outcome.quality);
      }
      if (alerts != null && outcome.quality != null) {
        List<Verdict> warned = outcome.quality.results().stream().filter(v -> !v.passed()).toList();
        if (!warned.isEmpty()) {
          alerts.warned(warned, lineage == null ? UUID.randomUUID().toString() : lineage.runId());
        }
      }
      return summary;
    } catch (RuntimeException | IOException e) {
      if (lineage != null) {
        lineage.fail(e, outcome.summary, outcome.quality);
      }
      if (alerts != null) {
        alerts.failed(
            outcome.verdict == null ? "failed" : outcome.verdict,
            e.getMessage(),
            lineage == null ? UUID.randomUUID().toString() : lineage.runId());
      }
      throw e;
    } finally {
      if (alerts != null) {
        alerts.finish(out);
      }
      if (outcome.metrics != null) {
        outcome.metrics.close();
      }
      if (heartbeat != null) {
        heartbeat.shutdownNow();
      }
      if (lineage != null) {
        finish(lineage, options, out, "");
      }
      if (!(!plan.bounded() && options.getDetached())) {
        for (RunPlan.Step step : plan.cleanup()) {
          try {
            step.run(null);
          } catch (Exception e) {
            out.println("  cleanup failed (" + step.name() + "): " + e.getMessage());
          }
        }
      }
    }
  }

  /** How often a streaming run sends OpenLineage's RUNNING event. */
  /**
   * A run that fails before its graph runs (its input missing, a service unreachable, a table that
   * does not match) is still a run: with {@code --lineage} it sends START and then FAIL with the
   * error, so that "the upstream files never came" shows in the lineage backend, and with {@code
   * --runHistory} it is recorded ({@code failed_before_run}, the error as its reason), and with
   * {@code --alertWebhook} it alerts as any failed run does. Returns {@code failure}, to be thrown;
   * a lineage that cannot be set up is attached to it, never thrown in its place.
   */
  private static RuntimeException failedUnplanned(
      SluicePipeline<?, ?> definition,
      SluiceOptions options,
      PrintStream out,
      RuntimeException failure,
      Instant started) {
    if (options.getRunHistory() != null) {
      record(
          options.getRunHistory(),
          RunHistory.Entry.failedBeforeRun(
              definition.name(), started, Instant.now(), String.valueOf(failure.getMessage())),
          out);
    }
    OpenLineageRun lineage;
    RunAlerts alerts;
    try {
      lineage = OpenLineageRun.unplanned(definition, options);
      alerts = RunAlerts.of(definition.name(), options);
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
      return failure;
    }
    if (lineage != null) {
      lineage.start();
      lineage.fail(failure, null, null);
      finish(lineage, options, out, " (failed before it ran)");
    }
    if (alerts != null) {
      alerts.failed(
          "failed_before_run",
          failure.getMessage(),
          lineage == null ? UUID.randomUUID().toString() : lineage.runId());
      alerts.finish(out);
    }
    return failure;
  }

  /** Waits for the run's lineage events to go and says where they went (and any missed). */
  private static void finish(
      OpenLineageRun lineage, SluiceOptions options, PrintStream out, String what) {
    lineage.finish();
    out.println(
        "  lineage: OpenLineage run "
            + lineage.runId()
            + what
            + " sent to "
            + Redaction.url(options.getLineage())
            + (lineage.missed() == 0
                ? ""
                : " (" + lineage.missed() + " event(s) NOT delivered: see the log)"));
  }

  static final Duration LINEAGE_RUNNING_EVERY = Duration.ofSeconds(30);

  /** What a run produced so far, for the lineage events of its end, however it ends. */
  private static final class Outcome {
    RunSummary summary;
    QualityReport quality;
    MetricsEndpoint metrics;
    String verdict;
  }

  /**
   * Serves {@code /metrics} for {@code --metricsPort}: from the Flink JobManager's REST API when
   * the launcher named one, otherwise from the runner's result once it returns one (Direct).
   */
  private static <O extends SluiceOptions, P extends SluicePipeline.Plan>
      MetricsEndpoint metricsEndpoint(
          SluicePipeline<O, P> definition, O options, P plan, PrintStream out) {
    if (options.getMetricsPort() == null) {
      return null;
    }
    MetricsEndpoint endpoint;
    try {
      endpoint =
          MetricsEndpoint.start(
              definition.name(),
              definition.consumerLag(plan).orElse(null),
              options.getMetricsPort());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--metricsPort=" + options.getMetricsPort() + ": cannot serve /metrics: " + e, e);
    }
    if (options.getMetricsFlinkRest() != null) {
      endpoint.watch(
          new FlinkRestMetrics(
              options.getMetricsFlinkRest(),
              options.getJobName(),
              definition.name(),
              MetricsEndpoint::isWindowGauge));
    }
    out.println("  metrics: http://localhost:" + endpoint.port() + "/metrics");
    return endpoint;
  }

  private static RunSummary run(
      SluicePipeline<?, ?> definition,
      SluiceOptions options,
      PrintStream out,
      Pipeline pipeline,
      RunPlan plan,
      Outcome outcome,
      Map<String, String> personalData)
      throws IOException {
    Instant started = Instant.now();
    if (outcome.metrics != null) {
      outcome.metrics.state("RUNNING");
    }
    PipelineResult result = pipeline.run();
    if (outcome.metrics != null && !outcome.metrics.watching()) {
      outcome.metrics.watch(
          () -> {
            PipelineMetrics figures = new PipelineMetrics(result.metrics(), definition.name());
            return new LiveMetrics.Figures(figures.counters(), figures.gauges());
          });
    }
    if (!plan.bounded() && options.getDetached()) {
      out.println(
          definition.name()
              + " submitted as "
              + options.getJobName()
              + " (detached; state "
              + result.getState()
              + "): it runs until cancelled on its cluster");
      return null;
    }
    PipelineResult.State state = result.waitUntilFinish();
    Instant finished = Instant.now();
    if (outcome.metrics != null) {
      outcome.metrics.state(String.valueOf(state));
    }
    RunSummary summary =
        RunSummary.from(
                definition.name(),
                String.valueOf(state),
                started,
                finished,
                result.metrics(),
                plan.outputs())
            .withPersonalData(personalData);
    out.print(summary.toText());
    outcome.summary = summary;
    String verdict = "failed";
    QualityReport quality = null;
    try {
      boolean succeeded =
          state == PipelineResult.State.DONE && (!plan.bounded() || summary.accountingGap() == 0);
      if (succeeded && plan.bounded()) {
        try {
          summary = runSteps(plan.audit(), summary, out);
        } catch (StepFailed e) {
          verdict = "step_failed";
          throw withReport(e.failure(definition.name()), plan, e.summary, out);
        }
        outcome.summary = summary;
      }
      if (succeeded && plan.bounded() && plan.quality() != null) {
        quality =
            QualityReport.evaluate(
                plan.quality(),
                result.metrics(),
                definition.name(),
                finished,
                summary.isReplay() ? null : history(definition.name(), plan));
        out.print(
            quality.failures().isEmpty()
                ? "  quality        all rules pass\n"
                : "  quality\n" + quality.failures());
        outcome.quality = quality;
        if (plan.runReport() != null) {
          String location = plan.runReport().replaceFirst("[^/]*$", "quality-report.json");
          quality.writeJson(location);
          out.println("  quality report: " + location);
        }
        if (!quality.failedErrors().isEmpty()) {
          verdict = "quality_gate_closed";
          throw withReport(
              new QualityGateException(definition.name(), quality), plan, summary, out);
        }
      }
      if (succeeded && plan.bounded()) {
        try {
          summary = runSteps(plan.onSuccess(), summary, out);
        } catch (StepFailed e) {
          verdict = "step_failed";
          throw withReport(e.failure(definition.name()), plan, e.summary, out);
        }
        outcome.summary = summary;
      }
      writeReport(plan, summary, out);
      if (state != PipelineResult.State.DONE) {
        throw new RunFailedException(definition.name() + " ended in state " + state);
      }
      if (plan.bounded() && summary.accountingGap() != 0) {
        verdict = "accounting_gap";
        throw new AccountingException(summary);
      }
      verdict = "succeeded";
      return summary;
    } finally {
      outcome.verdict = verdict;
      if (plan.bounded() && plan.runHistory() != null && !summary.isReplay()) {
        record(definition.name(), plan, summary, quality, verdict, out);
      }
    }
  }

  /** A plan's step that failed, with the summary as far as the steps before it went. */
  private static final class StepFailed extends Exception {
    private final RunSummary summary;
    private final RunPlan.Step step;

    StepFailed(RunPlan.Step step, RunSummary summary, Exception cause) {
      super(cause);
      this.step = step;
      this.summary = summary;
    }

    RunFailedException failure(String pipeline) {
      return new RunFailedException(
          pipeline + " ran, but its step '" + step.name() + "' failed: " + getCause().getMessage(),
          getCause());
    }
  }

  /**
   * Carries out {@code steps} in order; what a reporting step returns is printed and added to the
   * summary's outputs.
   */
  private static RunSummary runSteps(List<RunPlan.Step> steps, RunSummary summary, PrintStream out)
      throws StepFailed {
    for (RunPlan.Step step : steps) {
      try {
        if (step instanceof RunPlan.ReportingStep reporting) {
          Map<String, String> reported = reporting.runAndReport(summary);
          reported.forEach((label, value) -> out.println("  " + label + ": " + value));
          summary = summary.withOutputs(reported);
        } else {
          step.run(summary);
        }
      } catch (Exception e) {
        throw new StepFailed(step, summary, e);
      }
    }
    return summary;
  }

  /** The pipeline's earlier runs, for the change rules; a history that cannot be read fails. */
  private static List<RunHistory.Entry> history(String pipeline, RunPlan plan) throws IOException {
    return plan.runHistory() == null ? null : RunHistory.read(plan.runHistory(), pipeline);
  }

  /**
   * The table snapshot the run's commit made ({@code 5082...}), or the audit branch a closed gate
   * left ({@code audit-...}), from what its steps reported; null when it committed none.
   */
  private static @Nullable String snapshot(RunSummary summary) {
    String snapshot = summary.outputs().get("snapshot");
    if (snapshot != null && snapshot.matches("-?\\d+\\b.*")) {
      return snapshot.replaceFirst("^(-?\\d+).*", "$1");
    }
    String branch = summary.outputs().get("audit branch");
    return branch == null ? null : branch.replaceFirst("\\s.*", "");
  }

  /** Records the run in the history; a failure to record is reported, never raised. */
  private static void record(
      String pipeline,
      RunPlan plan,
      RunSummary summary,
      QualityReport quality,
      String outcome,
      PrintStream out) {
    Map<String, Boolean> rules = new TreeMap<>();
    if (quality != null) {
      quality.results().forEach(r -> rules.put(r.rule(), r.passed()));
    }
    record(
        plan.runHistory(),
        new RunHistory.Entry(
            pipeline,
            UUID.randomUUID().toString(),
            summary.startedAt(),
            summary.finishedAt(),
            outcome,
            quality == null || quality.failedErrors().isEmpty(),
            summary.counters(),
            rules,
            snapshot(summary)),
        out);
  }

  /** Records {@code entry} in the run history {@code dir}; a failure to is said, never thrown. */
  private static void record(String dir, RunHistory.Entry entry, PrintStream out) {
    try {
      RunHistory.record(dir, entry);
      out.println("  run history: " + dir);
    } catch (IOException | RuntimeException e) {
      out.println("  run history NOT recorded in " + dir + ": " + e.getMessage());
    }
  }

  /**
   * Writes the report of a run that is failing with {@code failure}; a report that cannot be
   * written is attached to the failure, never thrown in its place.
   */
  private static RuntimeException withReport(
      RuntimeException failure, RunPlan plan, RunSummary summary, PrintStream out) {
    try {
      writeReport(plan, summary, out);
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
    return failure;
  }

  private static void writeReport(RunPlan plan, RunSummary summary, PrintStream out)
      throws IOException {
    if (plan.runReport() != null) {
      summary.writeJson(plan.runReport());
      out.println("  run report: " + plan.runReport());
    }
  }
}

package dev.sluice.runners.workflow;

import dev.sluice.io.lineage.LineageTransport;
import dev.sluice.pipelines.run.RunAlerts;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;

/**
 * Runs one job of a workflow for one data interval, as a scheduler fire or a backfill does: skips
 * an interval that succeeded already; waits for the upstream jobs to succeed for the same interval;
 * starts the pipeline in a JVM of its own (the launcher's, with the interval's dates in its options
 * and the workflow run as its OpenLineage parent), killed at the job's timeout; retries a failure
 * with a doubling backoff; records every attempt; and alerts once when the last attempt failed.
 */
public final class JobRunner {
  /** Starts a pipeline run: its launcher arguments, its timeout and log; the exit code. */
  @FunctionalInterface
  public interface Launch {
    int run(List<String> args, Duration timeout, Path log) throws IOException, InterruptedException;
  }

  /** How a job's interval ended. */
  public enum Outcome {
    SUCCEEDED,
    SKIPPED,
    FAILED,
    UPSTREAM_FAILED
  }

  private final Workflow workflow;
  private final WorkflowRuns runs;
  private final Launch launch;
  private final String instance;
  private final Path logs;
  private final @Nullable LineageTransport alerts;
  private final SchedulerMetrics metrics;
  private final PrintStream out;

  /** How often a job waiting for its upstream jobs looks again. */
  private static final Duration UPSTREAM_POLL = Duration.ofSeconds(2);

  public JobRunner(
      Workflow workflow,
      WorkflowRuns runs,
      Launch launch,
      String instance,
      Path logs,
      @Nullable String alertWebhook,
      SchedulerMetrics metrics,
      PrintStream out) {
    this.workflow = workflow;
    this.runs = runs;
    this.launch = launch;
    this.instance = instance;
    this.logs = logs;
    this.alerts =
        alertWebhook == null
            ? null
            : LineageTransport.http("alertWebhook", alertWebhook).delivering("alert");
    this.metrics = metrics;
    this.out = out;
  }

  /** The OpenLineage parent run of every pipeline run of the workflow for {@code interval}. */
  public UUID workflowRun(Workflow.Interval interval) {
    return UUID.nameUUIDFromBytes(
        (workflow.name() + "@" + interval.start()).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Runs {@code job} for {@code interval}.
   *
   * @param trigger what started it: {@code scheduled}, {@code backfill}, {@code recovered}
   * @param waitForUpstream whether to wait (up to the job's timeout) for upstream jobs not yet
   *     succeeded, rather than fail at once
   */
  public Outcome run(
      Workflow.Job job, Workflow.Interval interval, String trigger, boolean waitForUpstream)
      throws IOException, InterruptedException {
    String name = workflow.name();
    if (runs.succeeded(name, job.name(), interval.start())) {
      out.println(label(job, interval) + ": succeeded already, skipped");
      return Outcome.SKIPPED;
    }
    Instant deadline = Instant.now().plus(job.timeout());
    for (String upstream : job.dependsOn()) {
      while (!runs.succeeded(name, upstream, interval.start())) {
        if (!waitForUpstream || Instant.now().isAfter(deadline)) {
          String reason = "upstream job " + upstream + " has not succeeded for this interval";
          record(job, interval, trigger, false, -1, reason);
          alertOnce(job, interval, "upstream_failed", label(job, interval) + ": " + reason);
          metrics.finished(name, job.name(), "upstream_failed");
          return Outcome.UPSTREAM_FAILED;
        }
        Thread.sleep(UPSTREAM_POLL.toMillis());
      }
    }
    // Attempts left running by a scheduler that died mid-run were lost with it.
    runs.abandon(name, job.name(), interval.start(), "the scheduler running it stopped");
    int first = runs.attempts(name, job.name(), interval.start()) + 1;
    int last = first + job.retries();
    String reason = null;
    for (int attempt = first; attempt <= last; attempt++) {
      if (attempt > first) {
        metrics.retried(name, job.name());
        Duration wait = job.backoff().multipliedBy(1L << Math.min(20, attempt - first - 1));
        out.println(label(job, interval) + ": retry " + (attempt - first) + " in " + wait);
        Thread.sleep(wait.toMillis());
      }
      UUID runId = UUID.randomUUID();
      long id = runs.begin(name, job, interval, attempt, trigger, instance, runId);
      List<String> args = new ArrayList<>(job.arguments(interval));
      if (!job.options().containsKey("parentRunId")) {
        args.add("--parentRunId=" + workflowRun(interval));
        args.add("--parentJob=sluice/" + name);
      }
      if (!job.options().containsKey("jobName")) {
        args.add(
            "--jobName="
                + (name + "-" + job.name())
                    .toLowerCase(java.util.Locale.ROOT)
                    .replaceAll("[^a-z0-9-]", "-"));
      }
      Path log =
          logs.resolve(name + "-" + job.name() + "-" + interval.ds() + "-" + attempt + ".log");
      Files.createDirectories(logs);
      int code = launch.run(args, job.timeout(), log);
      boolean ok = code == 0;
      reason = ok ? null : reasonOf(code, log, job.timeout());
      runs.finish(id, ok, code, reason);
      out.println(
          label(job, interval)
              + ": attempt "
              + attempt
              + (ok ? " succeeded" : " failed (exit " + code + "): " + reason));
      if (ok) {
        metrics.finished(name, job.name(), "succeeded");
        metrics.succeededAt(name, job.name(), Instant.now());
        return Outcome.SUCCEEDED;
      }
    }
    metrics.finished(name, job.name(), "failed");
    alertOnce(
        job,
        interval,
        "failed",
        label(job, interval) + " failed after " + (job.retries() + 1) + " attempt(s): " + reason);
    return Outcome.FAILED;
  }

  private void record(
      Workflow.Job job,
      Workflow.Interval interval,
      String trigger,
      boolean ok,
      int code,
      String reason)
      throws IOException {
    int attempt = runs.attempts(workflow.name(), job.name(), interval.start()) + 1;
    long id =
        runs.begin(workflow.name(), job, interval, attempt, trigger, instance, UUID.randomUUID());
    runs.finish(id, ok, code, reason);
  }

  /** Sends the alert of {@code kind} for the job and interval unless one was sent already. */
  public void alertOnce(Workflow.Job job, Workflow.Interval interval, String kind, String message)
      throws IOException {
    if (!runs.claimAlert(workflow.name(), job.name(), interval.start(), kind)) {
      return;
    }
    metrics.alerted(workflow.name(), job.name(), kind);
    out.println("alert (" + kind + "): " + message);
    if (alerts == null) {
      return;
    }
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("workflow", workflow.name());
    labels.put("job", job.name());
    labels.put("pipeline", job.pipeline());
    labels.put("reason", kind);
    labels.put("interval_start", interval.start().toString());
    String name = kind.equals("sla_missed") ? "SluiceSlaMissed" : "SluiceWorkflowJobFailed";
    String runId = workflowRun(interval).toString();
    alerts.send(
        runId,
        RunAlerts.payload(
            name, kind.equals("sla_missed") ? "warning" : "critical", labels, message, runId));
  }

  /** Waits for the alerts in flight to go. */
  public void finish() {
    if (alerts != null) {
      alerts.finish();
    }
  }

  private static String label(Workflow.Job job, Workflow.Interval interval) {
    return job.name() + " [" + interval.start() + ", " + interval.end() + ")";
  }

  /** The run's own last error line, or what the exit code means. */
  private static String reasonOf(int code, Path log, Duration timeout) {
    if (code == TIMED_OUT) {
      return "timed out after " + timeout;
    }
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      for (int i = lines.size() - 1; i >= 0; i--) {
        String line = lines.get(i).strip();
        if (line.startsWith("sluice ")) {
          return line.length() > 500 ? line.substring(0, 500) + "…" : line;
        }
      }
    } catch (IOException e) {
      // no log: the exit code says it
    }
    return "exit code " + code;
  }

  /** The exit code {@link #forked} gives a run killed at its timeout. */
  public static final int TIMED_OUT = 124;

  /**
   * A launch in a JVM of its own with {@code classpath}, killed (with its children) at the timeout;
   * its output to {@code log}.
   */
  public static Launch forked(String classpath) {
    return (args, timeout, log) -> {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-cp");
      command.add(classpath);
      command.add("dev.sluice.runners.Sluice");
      command.addAll(args);
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
        return TIMED_OUT;
      }
      return process.exitValue();
    };
  }
}

package dev.sluice.runners;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.runners.workflow.AirflowDag;
import dev.sluice.runners.workflow.JobRunner;
import dev.sluice.runners.workflow.SchedulerMetrics;
import dev.sluice.runners.workflow.Workflow;
import dev.sluice.runners.workflow.WorkflowRuns;
import dev.sluice.runners.workflow.WorkflowScheduler;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Workflows: {@code sluice workflow check|run}, {@code sluice schedule} and {@code sluice dag}.
 *
 * <ul>
 *   <li>{@code workflow check --workflow=<file>}: loads and checks the file, and lists its jobs;
 *   <li>{@code workflow run --workflow=<file> --job=<name> --from=<date|instant> --to=<...>
 *       --jdbcUrl=...}: backfills the job's intervals in {@code [from, to)} now, each after its
 *       upstream jobs (run for the same interval first when they have not succeeded for it);
 *   <li>{@code schedule --workflow=<file> --jdbcUrl=...}: runs the workflow on Quartz, clustered
 *       through its JDBC job store ({@link WorkflowScheduler});
 *   <li>{@code dag --workflow=<file> --output=<dir>}: writes an Airflow DAG ({@link AirflowDag}).
 * </ul>
 */
final class WorkflowCommand {
  static final List<String> RUN =
      List.of(
          "workflow",
          "job",
          "from",
          "to",
          "jdbcUrl",
          "jdbcUser",
          "jdbcPassword",
          "alertWebhook",
          "logs");
  static final List<String> SCHEDULE =
      List.of(
          "workflow",
          "jdbcUrl",
          "jdbcUser",
          "jdbcPassword",
          "alertWebhook",
          "logs",
          "metricsPort",
          "instance",
          "misfire",
          "slaCheckEvery",
          "threads",
          "catchUp");
  static final List<String> DAG =
      List.of("workflow", "output", "jar", "flexTemplates", "alertWebhook");

  private WorkflowCommand() {}

  static int workflow(String[] args, PrintStream out) throws Exception {
    if (args.length == 0 || args[0].startsWith("--")) {
      throw new UsageException("sluice workflow check|run --workflow=<file> ...");
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    return switch (args[0]) {
      case "check" -> check(rest, out);
      case "run" -> backfill(rest, out);
      default ->
          throw new UsageException(
              "Unknown workflow command '" + args[0] + "'; expected check or run");
    };
  }

  static Workflow load(Flags flags) throws IOException {
    try {
      return Workflow.load(Path.of(flags.required("workflow")));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private static int check(String[] args, PrintStream out) throws IOException {
    Workflow workflow = load(Flags.parse(args, List.of("workflow")));
    out.println("Workflow " + workflow.name() + " (" + workflow.zone() + "): OK");
    for (Workflow.Job job : workflow.ordered()) {
      out.println(
          "  "
              + job.name()
              + ": "
              + job.pipeline()
              + " at '"
              + job.schedule()
              + "'"
              + (job.dependsOn().isEmpty() ? "" : " after " + String.join(", ", job.dependsOn()))
              + ", next "
              + job.cron(workflow.zone()).getNextValidTimeAfter(new java.util.Date()).toInstant());
    }
    return Exit.OK;
  }

  static WorkflowRuns runs(Flags flags) {
    try {
      return new WorkflowRuns(
          JdbcConnection.of(
              flags.required("jdbcUrl"), flags.get("jdbcUser"), flags.get("jdbcPassword")));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  static String instance(Flags flags) throws IOException {
    String given = flags.get("instance");
    return given != null
        ? given
        : InetAddress.getLocalHost().getHostName()
            + "-"
            + ProcessHandle.current().pid()
            + "-"
            + UUID.randomUUID().toString().substring(0, 4);
  }

  private static int backfill(String[] args, PrintStream out) throws Exception {
    Flags flags = Flags.parse(args, RUN);
    Workflow workflow = load(flags);
    String jobName = flags.required("job");
    Instant from = instant("from", flags.required("from"), workflow);
    Instant to = instant("to", flags.required("to"), workflow);
    if (!from.isBefore(to)) {
      throw new UsageException("--from must be before --to");
    }
    List<Workflow.Job> jobs;
    try {
      jobs = workflow.withUpstream(jobName);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    Workflow.Job target = workflow.jobs().get(jobName);
    List<Workflow.Interval> intervals = workflow.intervals(target, from, to);
    if (intervals.isEmpty()) {
      out.println("No interval of " + jobName + " starts in [" + from + ", " + to + ")");
      return Exit.OK;
    }
    out.println(
        "Backfilling "
            + intervals.size()
            + " interval(s) of "
            + jobName
            + (jobs.size() > 1 ? " with its upstream jobs" : ""));
    JobRunner runner =
        new JobRunner(
            workflow,
            runs(flags),
            JobRunner.forked(ForkedRun.classpath()),
            instance(flags),
            Path.of(flags.get("logs", "target/sluice-workflow-logs")),
            flags.get("alertWebhook"),
            new SchedulerMetrics(),
            out);
    List<String> failed = new ArrayList<>();
    try {
      for (Workflow.Interval interval : intervals) {
        for (Workflow.Job job : jobs) {
          JobRunner.Outcome outcome = runner.run(job, interval, "backfill", false);
          if (outcome == JobRunner.Outcome.FAILED || outcome == JobRunner.Outcome.UPSTREAM_FAILED) {
            failed.add(job.name() + " " + interval.ds());
            break;
          }
        }
      }
    } finally {
      runner.finish();
    }
    if (!failed.isEmpty()) {
      out.println("Backfill failed for: " + String.join(", ", failed));
      return Exit.RUN_FAILED;
    }
    out.println("Backfill done: " + intervals.size() + " interval(s)");
    return Exit.OK;
  }

  /** {@code 2026-11-01} (midnight in the workflow's zone) or an instant. */
  private static Instant instant(String option, String value, Workflow workflow) {
    try {
      return value.length() == 10
          ? LocalDate.parse(value).atStartOfDay(workflow.zone()).toInstant()
          : Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new UsageException(
          "--" + option + " must be a date (2026-11-01) or an instant (2026-11-01T00:00:00Z)");
    }
  }

  static int schedule(String[] args, PrintStream out) throws Exception {
    Flags flags = Flags.parse(args, SCHEDULE);
    Workflow workflow = load(flags);
    WorkflowScheduler.Misfire misfire;
    try {
      misfire = WorkflowScheduler.Misfire.valueOf(flags.get("misfire", "fire_once"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          "--misfire must be fire_once or skip, but was '" + flags.get("misfire") + "'");
    }
    WorkflowScheduler.Settings settings =
        new WorkflowScheduler.Settings(
            JdbcConnection.of(
                flags.required("jdbcUrl"), flags.get("jdbcUser"), flags.get("jdbcPassword")),
            instance(flags),
            Path.of(flags.get("logs", "target/sluice-workflow-logs")),
            flags.get("alertWebhook"),
            flags.get("metricsPort") == null ? null : number(flags, "metricsPort", "0"),
            misfire,
            duration(flags, "slaCheckEvery", "PT30S"),
            number(flags, "threads", "4"),
            java.time.Duration.ofSeconds(5),
            flags.get("catchUp") == null ? null : duration(flags, "catchUp", null));
    WorkflowScheduler scheduler =
        WorkflowScheduler.start(workflow, settings, JobRunner.forked(ForkedRun.classpath()), out);
    Runtime.getRuntime().addShutdownHook(new Thread(scheduler::close, "sluice-scheduler-stop"));
    scheduler.awaitTermination();
    return Exit.OK;
  }

  private static int number(Flags flags, String name, String fallback) {
    try {
      return Integer.parseInt(flags.get(name, fallback));
    } catch (NumberFormatException e) {
      throw new UsageException(
          "--" + name + " must be a whole number, but was '" + flags.get(name) + "'");
    }
  }

  private static java.time.Duration duration(Flags flags, String name, String fallback) {
    try {
      return java.time.Duration.parse(flags.get(name, fallback));
    } catch (DateTimeParseException e) {
      throw new UsageException(
          "--"
              + name
              + " must be an ISO-8601 duration (e.g. PT30S), but was '"
              + flags.get(name)
              + "'");
    }
  }

  static int dag(String[] args, PrintStream out) throws IOException {
    Flags flags = Flags.parse(args, DAG);
    Workflow workflow = load(flags);
    Path written =
        AirflowDag.write(
            workflow,
            Path.of(flags.required("output")),
            flags.get("jar", "/opt/sluice/sluice-bundle.jar"),
            flags.get("flexTemplates", "gs://YOUR_BUCKET/sluice/templates"),
            flags.get("alertWebhook"));
    out.println("Wrote the Airflow DAG of " + workflow.name() + " to " + written);
    return Exit.OK;
  }
}

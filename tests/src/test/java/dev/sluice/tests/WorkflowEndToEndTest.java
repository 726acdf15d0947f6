package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.runners.Launcher;
import dev.sluice.runners.workflow.JobRunner;
import dev.sluice.runners.workflow.SchedulerMetrics;
import dev.sluice.runners.workflow.Workflow;
import dev.sluice.runners.workflow.WorkflowRuns;
import dev.sluice.runners.workflow.WorkflowScheduler;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workflows on real services: a file's problems named at load, a backfill of three intervals run in
 * JVMs of their own with the intervals' dates in their options, retries with backoff recorded in
 * the history and the metrics, one alert for a job that always fails and one for a missed SLA, and
 * the Airflow DAG checked by Python's own parser.
 */
@ExtendWith(SharedSandbox.class)
class WorkflowEndToEndTest extends LauncherCalls {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;
  @RegisterExtension final WebhookReceiver alertmanager = new WebhookReceiver();
  private final List<JsonNode> received = alertmanager.received();

  private String webhook() {
    return alertmanager.url();
  }

  private Path file(String name, String yaml) throws Exception {
    return Files.writeString(dir.resolve(name), yaml);
  }

  private static String unique(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 6);
  }

  @Test
  void aWorkflowFilesProblemsAreNamedAtLoad() throws Exception {
    Path bad =
        file(
            "bad.yaml",
            """
            workflow: broken
            owner: me
            jobs:
              - name: a
                pipeline: files-to-lake
                schedule: "0 0 * * *"
                depends_on: [c]
                options: {input: "/in/{{ day }}/*.csv", outptu: /lake}
              - name: b
                pipeline: files-to-pond
                schedule: "every day"
              - name: c
                pipeline: jdbc-to-lake
                schedule: "0 0 * * *"
                depends_on: [a]
                retries: many
            """);
    assertThat(run("workflow", "check", "--workflow=" + bad), is(Launcher.USAGE));
    String printed = err.toString(StandardCharsets.UTF_8);
    for (String problem :
        List.of(
            "unknown key 'owner'",
            "job 'a': option 'input' uses unknown variable {{ day }}",
            "job 'a': unknown option 'outptu' of files-to-lake",
            "job 'b': unknown pipeline 'files-to-pond'",
            "job 'b': 'schedule' 'every day' is not a cron expression",
            "job 'c': 'retries' must be a whole number")) {
      assertThat(printed, containsString(problem));
    }
    Path cycle =
        file(
            "cycle.yaml",
            """
            workflow: loop
            jobs:
              - {name: a, pipeline: files-to-lake, schedule: "0 0 * * *", depends_on: [b]}
              - {name: b, pipeline: files-to-lake, schedule: "0 0 * * *", depends_on: [a]}
            """);
    err.reset();
    assertThat(run("workflow", "check", "--workflow=" + cycle), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("the dependencies form a cycle: a -> b -> a"));
  }

  /** (e) A backfill over three past days runs three times, each with its day in its options. */
  @Test
  void aBackfillOfThreeIntervalsRunsThreeTimesWithTheirDatesAndOnlyOnce() throws Exception {
    for (String day : List.of("2026-11-01", "2026-11-02", "2026-11-03")) {
      Path in = Files.createDirectories(dir.resolve("in/" + day));
      Files.writeString(
          in.resolve("orders.csv"),
          HEADER + "1,10,1.00,EUR,NEW," + day + "T09:00:00Z," + day + "T09:00:00Z,1,\n");
    }
    String name = unique("backfill");
    Path workflow =
        file(
            "backfill.yaml",
            "workflow: "
                + name
                + "\njobs:\n"
                + "  - name: load\n"
                + "    pipeline: files-to-lake\n"
                + "    schedule: \"0 0 * * *\"\n"
                + "    options:\n"
                + "      input: \""
                + dir.resolve("in")
                + "/{{ ds }}/*.csv\"\n"
                + "      output: \""
                + dir.resolve("lake")
                + "/{{ ds }}\"\n"
                + "      deadLetter: \"file:"
                + dir.resolve("dlq")
                + "/{{ ds }}\"\n"
                + "      lineage: \"file:"
                + dir.resolve("lineage")
                + "/{{ ds }}\"\n");
    String[] backfill = {
      "workflow",
      "run",
      "--workflow=" + workflow,
      "--job=load",
      "--from=2026-11-01",
      "--to=2026-11-04",
      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
      "--jdbcUser=postgres",
      "--logs=" + dir.resolve("logs")
    };
    assertOk(run(backfill));
    for (String day : List.of("2026-11-01", "2026-11-02", "2026-11-03")) {
      assertThat(day, Files.exists(dir.resolve("lake/" + day + "/dt=" + day)), is(true));
    }
    List<WorkflowRuns.Attempt> history = runs().history(name);
    assertThat(history.size(), is(3));
    assertThat(
        history.stream().map(a -> a.intervalStart() + " " + a.state() + " " + a.trigger()).toList(),
        equalTo(
            List.of(
                "2026-11-01T00:00:00Z succeeded backfill",
                "2026-11-02T00:00:00Z succeeded backfill",
                "2026-11-03T00:00:00Z succeeded backfill")));
    // Each run's OpenLineage events name the workflow run of its interval as their parent.
    JsonNode start =
        JSON.readTree(
            Files.readAllLines(dir.resolve("lineage/2026-11-02/openlineage.jsonl")).get(0));
    JsonNode parent = start.get("run").get("facets").get("parent");
    assertThat(
        parent.get("run").get("runId").asText(),
        equalTo(
            UUID.nameUUIDFromBytes(
                    (name + "@2026-11-02T00:00:00Z").getBytes(StandardCharsets.UTF_8))
                .toString()));
    assertThat(parent.get("job").get("name").asText(), equalTo(name));
    // Again: every interval succeeded already, nothing runs.
    out.reset();
    assertOk(run(backfill));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("succeeded already, skipped"));
    assertThat(runs().history(name).size(), is(3));
  }

  private static WorkflowRuns runs() {
    return new WorkflowRuns(JdbcConnection.of(SharedSandbox.jdbcUrl(), "postgres", null));
  }

  private Workflow workflow(String name, String retries, String sla) throws Exception {
    return Workflow.load(
        file(
            name + ".yaml",
            "workflow: "
                + name
                + "\njobs:\n"
                + "  - name: job\n"
                + "    pipeline: files-to-lake\n"
                + "    schedule: \"0 0 1 1 *\"\n"
                + "    retries: "
                + retries
                + "\n    retry_backoff: PT0.2S\n"
                + (sla == null ? "" : "    sla: {" + sla + "}\n")
                + "    options: {input: /nowhere/*.csv, output: /tmp/x, deadLetter: \"file:/tmp/y\"}\n"));
  }

  /**
   * (b) A job that fails twice and then succeeds shows two retries, with a doubling backoff, in the
   * history and the metrics, and sends no alert; one that always fails sends exactly one.
   */
  @Test
  void retriesWithBackoffAreRecordedAndOnlyAFinalFailureAlertsOnce() throws Exception {
    Workflow flaky = workflow(unique("flaky"), "2", null);
    AtomicInteger calls = new AtomicInteger();
    List<Instant> starts = new CopyOnWriteArrayList<>();
    SchedulerMetrics metrics = new SchedulerMetrics();
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    JobRunner runner =
        new JobRunner(
            flaky,
            runs(),
            (args, timeout, log) -> {
              starts.add(Instant.now());
              return calls.incrementAndGet() <= 2 ? 1 : 0;
            },
            "test",
            dir.resolve("logs"),
            webhook(),
            metrics,
            new PrintStream(printed, true, StandardCharsets.UTF_8));
    Workflow.Job job = flaky.jobs().get("job");
    Workflow.Interval interval =
        flaky
            .intervals(
                job, Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-02T00:00:00Z"))
            .get(0);
    assertThat(runner.run(job, interval, "scheduled", false), is(JobRunner.Outcome.SUCCEEDED));
    runner.finish();
    assertThat(
        runs().history(flaky.name()).stream().map(a -> a.attempt() + ":" + a.state()).toList(),
        equalTo(List.of("1:failed", "2:failed", "3:succeeded")));
    assertThat(metrics.count("retries", flaky.name(), "job", null), is(2.0));
    assertThat(metrics.count("runs", flaky.name(), "job", "succeeded"), is(1.0));
    // The backoff doubles: at least 0.2 s, then 0.4 s.
    assertThat(Duration.between(starts.get(0), starts.get(1)).toMillis() >= 200, is(true));
    assertThat(Duration.between(starts.get(1), starts.get(2)).toMillis() >= 400, is(true));
    assertThat(received.size(), is(0));

    Workflow broken = workflow(unique("broken"), "1", null);
    JobRunner failing =
        new JobRunner(
            broken,
            runs(),
            (args, timeout, log) -> 1,
            "test",
            dir.resolve("logs"),
            webhook(),
            new SchedulerMetrics(),
            new PrintStream(printed, true, StandardCharsets.UTF_8));
    Workflow.Job brokenJob = broken.jobs().get("job");
    assertThat(failing.run(brokenJob, interval, "scheduled", false), is(JobRunner.Outcome.FAILED));
    // The same interval again (a later fire, a backfill): it fails again, but is alerted once.
    assertThat(failing.run(brokenJob, interval, "backfill", false), is(JobRunner.Outcome.FAILED));
    failing.finish();
    assertThat(runs().history(broken.name()).size(), is(4));
    assertThat(received.size(), is(1));
    JsonNode labels = received.get(0).get(0).get("labels");
    assertThat(labels.get("alertname").asText(), equalTo("SluiceWorkflowJobFailed"));
    assertThat(labels.get("workflow").asText(), equalTo(broken.name()));
    assertThat(labels.get("job").asText(), equalTo("job"));
    assertThat(labels.get("reason").asText(), equalTo("failed"));
    assertThat(
        received.get(0).get(0).get("annotations").get("message").asText(),
        containsString("failed after 2 attempt(s)"));
  }

  /**
   * (c) A missed SLA is alerted once, however often it is checked; and SLAs count from when the job
   * was scheduled: the interval that ended before (2025, the yearly job's last) is not late.
   */
  @Test
  void aMissedSlaIsAlertedOnce() throws Exception {
    Workflow late = workflow(unique("late"), "0", "finish_within: PT1S, fresher_than: PT1S");
    WorkflowScheduler.Settings settings =
        new WorkflowScheduler.Settings(
            JdbcConnection.of(SharedSandbox.jdbcUrl(), "postgres", null),
            unique("sla"),
            dir.resolve("logs"),
            webhook(),
            0,
            WorkflowScheduler.Misfire.skip,
            Duration.ofMillis(300),
            1,
            Duration.ofSeconds(5),
            null);
    try (WorkflowScheduler scheduler =
        WorkflowScheduler.start(late, settings, (args, timeout, log) -> 0, System.out)) {
      Poll.until(Duration.ofSeconds(30), () -> !received.isEmpty());
      // Checked several times more: still the one alert.
      long checks = scheduler.slaChecks();
      assertThat(
          Poll.until(Duration.ofSeconds(30), () -> scheduler.slaChecks() >= checks + 3), is(true));
      assertThat(scheduler.metrics().count("alerts", late.name(), "job", "sla_missed"), is(1.0));
      // /metrics serves the SLA miss and the next fire time.
      String metrics =
          new String(
              java.net
                  .URI
                  .create("http://127.0.0.1:" + scheduler.metrics().port() + "/metrics")
                  .toURL()
                  .openStream()
                  .readAllBytes(),
              StandardCharsets.UTF_8);
      assertThat(
          metrics,
          containsString(
              "sluice_workflow_alerts_total{job=\"job\",kind=\"sla_missed\",workflow=\""
                  + late.name()
                  + "\"} 1.0"));
      assertThat(
          metrics,
          containsString(
              "sluice_workflow_next_fire_timestamp_seconds{job=\"job\",workflow=\""
                  + late.name()
                  + "\"} "));
      assertThat(metrics, containsString("sluice_scheduler_up 1.0"));
    }
    assertThat(received.size(), is(1));
    JsonNode alert = received.get(0).get(0);
    assertThat(alert.get("labels").get("alertname").asText(), equalTo("SluiceSlaMissed"));
    assertThat(alert.get("labels").get("interval_start").asText(), equalTo("2025-01-01T00:00:00Z"));
    assertThat(
        alert.get("annotations").get("message").asText(),
        equalTo("job is staler than PT1S (it never succeeded)"));
  }

  /**
   * {@code --catchUp=P3D}: a scheduler that starts runs the intervals of the last three days that
   * did not succeed, oldest first, and not the current one.
   */
  @Test
  void catchUpRunsTheMissedIntervalsOfItsWindow() throws Exception {
    Workflow daily =
        Workflow.load(
            file(
                "daily.yaml",
                "workflow: "
                    + unique("daily")
                    + "\njobs:\n"
                    + "  - {name: job, pipeline: files-to-lake, schedule: \"0 0 * * *\","
                    + " options: {input: \"/in/{{ ds }}/*.csv\", output: /tmp/x,"
                    + " deadLetter: \"file:/tmp/y\"}}\n"));
    List<String> launched = new CopyOnWriteArrayList<>();
    WorkflowScheduler.Settings settings =
        new WorkflowScheduler.Settings(
            JdbcConnection.of(SharedSandbox.jdbcUrl(), "postgres", null),
            unique("catchup"),
            dir.resolve("logs"),
            null,
            null,
            WorkflowScheduler.Misfire.skip,
            Duration.ofMinutes(10),
            1,
            Duration.ofSeconds(5),
            Duration.ofDays(3));
    try (WorkflowScheduler scheduler =
        WorkflowScheduler.start(
            daily,
            settings,
            (args, timeout, log) -> {
              launched.add(args.get(1));
              return 0;
            },
            System.out)) {
      assertThat(scheduler.awaitCatchUp(Duration.ofSeconds(60)), is(true));
    }
    java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
    assertThat(
        launched,
        equalTo(
            List.of(
                "--input=/in/" + today.minusDays(3) + "/*.csv",
                "--input=/in/" + today.minusDays(2) + "/*.csv",
                "--input=/in/" + today.minusDays(1) + "/*.csv")));
    assertThat(
        runs().history(daily.name()).stream()
            .map(WorkflowRuns.Attempt::trigger)
            .distinct()
            .toList(),
        equalTo(List.of("catch_up")));
  }

  /** (f) The Airflow DAG, checked with Python's own parser against the operators' signatures. */
  @Test
  void theAirflowDagParsesAndCarriesOperatorsTasksAndEdges() throws Exception {
    Path workflow =
        file(
            "lake.yaml",
            """
            workflow: lake
            jobs:
              - name: load-files
                pipeline: files-to-lake
                schedule: "0 * * * *"
                retries: 2
                retry_backoff: PT30S
                timeout: PT1H
                sla: {finish_within: PT2H}
                options: {input: "/data/{{ ds }}/*.csv", output: /lake, deadLetter: "file:/dlq", runner: FlinkRunner}
              - name: export
                pipeline: jdbc-to-lake
                schedule: "0 * * * *"
                depends_on: [load-files]
                options: {runner: DataflowRunner, project: acme, region: europe-west1, jdbcUrl: "jdbc:postgresql://db/app", query: "SELECT 1", output: "gs://lake/x"}
            """);
    Path output = dir.resolve("dags");
    assertOk(
        run(
            "dag",
            "--workflow=" + workflow,
            "--output=" + output,
            "--jar=/opt/sluice/sluice.jar",
            "--flexTemplates=gs://acme/templates/",
            "--alertWebhook=" + webhook()));
    Path dag = output.resolve("lake.py");
    Path check = Path.of("src/test/resources/check_dag.py").toAbsolutePath();
    Process python =
        new ProcessBuilder("python3", check.toString(), dag.toString())
            .redirectErrorStream(true)
            .start();
    String report = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(report, python.waitFor(), is(0));
    JsonNode checked = JSON.readTree(report);
    assertThat(
        checked.get("imports").toString(),
        equalTo(
            "[\"airflow.DAG\",\"airflow.providers.apache.beam.operators.beam.BeamRunJavaPipelineOperator\","
                + "\"airflow.providers.google.cloud.operators.dataflow.DataflowStartFlexTemplateOperator\"]"));
    assertThat(checked.get("tasks").toString(), equalTo("[\"load-files\",\"export\"]"));
    assertThat(checked.get("edges").toString(), equalTo("[[\"load-files\",\"export\"]]"));
    assertThat(checked.get("schedule").asText(), equalTo("0 * * * *"));
    JsonNode beam = checked.get("operators").get("load-files");
    assertThat(beam.get("class").asText(), equalTo("BeamRunJavaPipelineOperator"));
    assertThat(beam.get("jar").asText(), equalTo("/opt/sluice/sluice.jar"));
    assertThat(beam.get("runner").asText(), equalTo("FlinkRunner"));
    assertThat(beam.get("job_class").asText(), equalTo("dev.sluice.runners.FlexTemplateMain"));
    assertThat(beam.get("pipeline_options").get("input").asText(), equalTo("/data/{{ ds }}/*.csv"));
    assertThat(
        beam.get("pipeline_options").get("sluicePipeline").asText(), equalTo("files-to-lake"));
    assertThat(beam.get("retries").asInt(), is(2));
    JsonNode flex = checked.get("operators").get("export");
    assertThat(flex.get("class").asText(), equalTo("DataflowStartFlexTemplateOperator"));
    assertThat(flex.get("project_id").asText(), equalTo("acme"));
    assertThat(flex.get("location").asText(), equalTo("europe-west1"));
    assertThat(
        flex.get("body").get("launchParameter").get("parameters").get("query").asText(),
        equalTo("SELECT 1"));
    assertThat(
        flex.get("body").get("launchParameter").get("containerSpecGcsPath").asText(),
        equalTo("gs://acme/templates/jdbc-to-lake.json"));
    assertThat(checked.get("on_failure_callback").asBoolean(), is(true));
  }
}

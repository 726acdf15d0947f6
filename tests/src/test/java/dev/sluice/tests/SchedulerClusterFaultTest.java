package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.runners.workflow.WorkflowRuns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * (a) Two scheduler processes run one workflow on a one-minute schedule against one PostgreSQL:
 * files-to-lake, then a jdbc-to-lake that depends on it. Each interval runs each job once, in
 * order. The scheduler running a job is killed (SIGKILL, with the pipeline it started, as a host
 * dies); the other takes the job over (Quartz's cluster recovery) and retries it, and no interval
 * succeeds twice.
 */
@ExtendWith(SharedSandbox.class)
class SchedulerClusterFaultTest extends LauncherCalls {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;

  private static WorkflowRuns runs() {
    return new WorkflowRuns(JdbcConnection.of(SharedSandbox.jdbcUrl(), "postgres", null));
  }

  private static Process scheduler(Path workflow, String instance, Path dir) throws Exception {
    return launch(
        List.of(
            "schedule",
            "--workflow=" + workflow,
            "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
            "--jdbcUser=postgres",
            "--instance=" + instance,
            "--logs=" + dir.resolve("logs-" + instance)),
        dir.resolve("scheduler-" + instance + ".log"));
  }

  /** Succeeded attempts by interval and job. */
  private static Map<Instant, Map<String, WorkflowRuns.Attempt>> succeeded(String workflow)
      throws Exception {
    Map<Instant, Map<String, WorkflowRuns.Attempt>> out = new TreeMap<>();
    for (WorkflowRuns.Attempt a : runs().history(workflow)) {
      if (a.state().equals("succeeded")) {
        Map<String, WorkflowRuns.Attempt> jobs =
            out.computeIfAbsent(a.intervalStart(), k -> new TreeMap<>());
        assertThat(
            a.job() + " succeeded twice for " + a.intervalStart(),
            jobs.put(a.job(), a),
            is((WorkflowRuns.Attempt) null));
      }
    }
    return out;
  }

  private static long complete(String workflow) throws Exception {
    return succeeded(workflow).values().stream().filter(m -> m.size() == 2).count();
  }

  @Test
  void twoSchedulersRunEachIntervalOnceInOrderAndOneTakesOverWhenTheOtherIsKilled()
      throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        in.resolve("orders.csv"),
        HEADER + "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n");
    String table = SharedSandbox.newTableLike("orders", "orders_cluster");
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " (order_id, customer_id, amount, currency, status, created_at, updated_at, version)"
            + " VALUES (7, 70, 7.00, 'EUR', 'NEW', now(), now(), 1)");
    String name = "cluster-" + UUID.randomUUID().toString().substring(0, 6);
    Path workflow =
        Files.writeString(
            dir.resolve("workflow.yaml"),
            "workflow: "
                + name
                + "\njobs:\n"
                + "  - name: load\n"
                + "    pipeline: files-to-lake\n"
                + "    schedule: \"* * * * *\"\n"
                + "    retries: 1\n"
                + "    retry_backoff: PT1S\n"
                + "    options:\n"
                + "      input: \""
                + in
                + "/*.csv\"\n"
                + "      output: \""
                + dir.resolve("lake")
                + "\"\n"
                + "      deadLetter: \"file:"
                + dir.resolve("dlq")
                + "\"\n"
                + "  - name: export\n"
                + "    pipeline: jdbc-to-lake\n"
                + "    schedule: \"* * * * *\"\n"
                + "    depends_on: [load]\n"
                + "    retries: 1\n"
                + "    retry_backoff: PT1S\n"
                + "    options:\n"
                + "      jdbcUrl: \""
                + SharedSandbox.jdbcUrl()
                + "\"\n"
                + "      jdbcUser: postgres\n"
                + "      table: "
                + table
                + "\n      output: \""
                + dir.resolve("export")
                + "\"\n"
                + "      deadLetter: \"file:"
                + dir.resolve("dlq-export")
                + "\"\n");
    List<Process> schedulers = new ArrayList<>();
    Map<String, Process> byInstance = new TreeMap<>();
    try {
      for (String instance : List.of("a", "b")) {
        Process p = scheduler(workflow, instance, dir);
        schedulers.add(p);
        byInstance.put(instance, p);
      }
      // A job starts on one of them: kill that scheduler and the pipeline it runs.
      AtomicReference<WorkflowRuns.Attempt> running = new AtomicReference<>();
      assertThat(
          "a job started within 100 s",
          Poll.until(
              Duration.ofSeconds(100),
              () -> {
                for (WorkflowRuns.Attempt a : runs().history(name)) {
                  if (a.state().equals("running")) {
                    running.set(a);
                    return true;
                  }
                }
                return false;
              }),
          is(true));
      WorkflowRuns.Attempt killed = running.get();
      Process victim = byInstance.get(killed.instance());
      victim.descendants().forEach(ProcessHandle::destroyForcibly);
      victim.destroyForcibly().waitFor();

      // The other scheduler recovers it: the interval completes, and the next one too.
      boolean completed = Poll.until(Duration.ofSeconds(200), () -> complete(name) >= 2);
      assertThat(
          "two intervals completed within 200 s after "
              + killed
              + " was killed: "
              + runs().history(name)
              + "\n"
              + Files.readString(dir.resolve("scheduler-a.log"))
              + "\n"
              + Files.readString(dir.resolve("scheduler-b.log")),
          completed,
          is(true));
      Map<Instant, Map<String, WorkflowRuns.Attempt>> done = succeeded(name);
      for (Map<String, WorkflowRuns.Attempt> jobs : done.values()) {
        if (jobs.size() == 2) {
          WorkflowRuns.Attempt load = jobs.get("load");
          WorkflowRuns.Attempt export = jobs.get("export");
          assertThat(
              "export started after load finished",
              !export.startedAt().isBefore(load.finishedAt()),
              is(true));
        }
      }
      WorkflowRuns.Attempt retried = done.get(killed.intervalStart()).get(killed.job());
      assertThat(retried.instance().equals(killed.instance()), is(false));
      assertThat(retried.attempt() > killed.attempt(), is(true));
      List<String> lost =
          runs().history(name).stream()
              .filter(
                  a ->
                      a.intervalStart().equals(killed.intervalStart())
                          && a.job().equals(killed.job())
                          && a.attempt() == killed.attempt())
              .map(a -> a.state() + ": " + a.reason())
              .toList();
      assertThat(lost, equalTo(List.of("failed: the scheduler running it stopped")));
      assertThat(Files.exists(dir.resolve("export")), is(true));
    } finally {
      for (Process p : schedulers) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }
  }
}

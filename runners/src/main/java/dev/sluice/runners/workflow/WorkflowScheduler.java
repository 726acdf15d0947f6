package dev.sluice.runners.workflow;

import dev.sluice.io.jdbc.JdbcConnection;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import org.quartz.CronScheduleBuilder;
import org.quartz.CronTrigger;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobExecutionContext;
import org.quartz.JobExecutionException;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.utils.ConnectionProvider;
import org.quartz.utils.DBConnectionManager;

/**
 * {@code sluice schedule}: a workflow on Quartz, its triggers in Quartz's JDBC job store in
 * PostgreSQL (migration V12) with clustering on, so that several scheduler processes share the
 * work: each fire runs on one of them, and a job whose scheduler died mid-run is recovered by
 * another (Quartz's {@code requestsRecovery}), which retries it. Each fire runs {@link JobRunner}
 * for the interval that ends at the fire time. The scheduler also checks the SLAs (every {@code
 * slaCheckEvery}) and serves its metrics ({@link SchedulerMetrics}).
 */
public final class WorkflowScheduler implements AutoCloseable {
  static final String RUNNER = "sluice.runner";
  static final String WORKFLOW = "sluice.workflow";

  /** How a scheduler runs. */
  public record Settings(
      JdbcConnection database,
      String instance,
      Path logs,
      @Nullable String alertWebhook,
      @Nullable Integer metricsPort,
      Misfire misfire,
      Duration slaCheckEvery,
      int threads,
      Duration clusterCheckin,
      @Nullable Duration catchUp) {}

  /** What a fire missed while no scheduler ran does (Quartz's misfire instructions). */
  public enum Misfire {
    /** The newest missed fire runs once, at once (older ones: {@code sluice workflow run}). */
    fire_once,
    /** Missed fires are skipped; the next one runs on time. */
    skip
  }

  private final Scheduler scheduler;
  private final Workflow workflow;
  private final JobRunner runner;
  private final WorkflowRuns runs;
  private final SchedulerMetrics metrics;
  private final ScheduledExecutorService checks;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final java.util.concurrent.atomic.AtomicLong slaChecks =
      new java.util.concurrent.atomic.AtomicLong();
  private @Nullable Thread catchingUp;
  private final PrintStream out;

  private WorkflowScheduler(
      Scheduler scheduler,
      Workflow workflow,
      JobRunner runner,
      WorkflowRuns runs,
      SchedulerMetrics metrics,
      PrintStream out) {
    this.scheduler = scheduler;
    this.workflow = workflow;
    this.runner = runner;
    this.runs = runs;
    this.metrics = metrics;
    this.out = out;
    this.checks =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sluice-sla-checks");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts a scheduler process of the workflow's cluster. */
  public static WorkflowScheduler start(
      Workflow workflow, Settings settings, JobRunner.Launch launch, PrintStream out)
      throws Exception {
    String dataSource = "sluice_" + Math.abs(settings.instance().hashCode());
    JdbcConnection database = settings.database();
    DBConnectionManager.getInstance()
        .addConnectionProvider(
            dataSource,
            new ConnectionProvider() {
              @Override
              public Connection getConnection() throws SQLException {
                return database.open();
              }

              @Override
              public void shutdown() {}

              @Override
              public void initialize() {}
            });
    Properties quartz = new Properties();
    quartz.setProperty("org.quartz.scheduler.instanceName", "sluice-" + workflow.name());
    quartz.setProperty("org.quartz.scheduler.instanceId", settings.instance());
    quartz.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
    quartz.setProperty("org.quartz.threadPool.threadCount", String.valueOf(settings.threads()));
    quartz.setProperty("org.quartz.jobStore.class", "org.quartz.impl.jdbcjobstore.JobStoreTX");
    quartz.setProperty(
        "org.quartz.jobStore.driverDelegateClass",
        "org.quartz.impl.jdbcjobstore.PostgreSQLDelegate");
    quartz.setProperty("org.quartz.jobStore.dataSource", dataSource);
    quartz.setProperty("org.quartz.jobStore.isClustered", "true");
    quartz.setProperty(
        "org.quartz.jobStore.clusterCheckinInterval",
        String.valueOf(settings.clusterCheckin().toMillis()));
    quartz.setProperty("org.quartz.jobStore.misfireThreshold", "30000");
    StdSchedulerFactory factory = new StdSchedulerFactory(quartz);
    Scheduler scheduler = factory.getScheduler();
    WorkflowRuns runs = new WorkflowRuns(database);
    SchedulerMetrics metrics = new SchedulerMetrics();
    if (settings.metricsPort() != null) {
      metrics.serve(settings.metricsPort());
    }
    JobRunner runner =
        new JobRunner(
            workflow,
            runs,
            launch,
            settings.instance(),
            settings.logs(),
            settings.alertWebhook(),
            metrics,
            out);
    WorkflowScheduler started =
        new WorkflowScheduler(scheduler, workflow, runner, runs, metrics, out);
    scheduler.getContext().put(RUNNER, runner);
    scheduler.getContext().put(WORKFLOW, workflow);
    for (Workflow.Job job : workflow.ordered()) {
      started.register(job, settings.misfire());
      if (job.fresherThan() != null) {
        metrics.freshnessSla(workflow.name(), job.name(), job.fresherThan().toSeconds());
      }
    }
    scheduler.start();
    if (settings.catchUp() != null) {
      Thread catchUp = new Thread(() -> started.catchUp(settings.catchUp()), "sluice-catch-up");
      catchUp.setDaemon(true);
      started.catchingUp = catchUp;
      catchUp.start();
    }
    started.checks.scheduleWithFixedDelay(
        started::checkSlas,
        settings.slaCheckEvery().toMillis(),
        settings.slaCheckEvery().toMillis(),
        TimeUnit.MILLISECONDS);
    out.println(
        "Scheduler "
            + settings.instance()
            + " of workflow "
            + workflow.name()
            + " started: "
            + workflow.jobs().size()
            + " job(s)"
            + (metrics.port() < 0 ? "" : ", /metrics on port " + metrics.port()));
    return started;
  }

  private void register(Workflow.Job job, Misfire misfire) throws SchedulerException {
    JobKey key = JobKey.jobKey(job.name(), workflow.name());
    JobDetail detail =
        JobBuilder.newJob(FireJob.class)
            .withIdentity(key)
            .usingJobData("job", job.name())
            .requestRecovery(true)
            .storeDurably()
            .build();
    CronScheduleBuilder schedule =
        CronScheduleBuilder.cronSchedule(job.cron(workflow.zone()))
            .inTimeZone(java.util.TimeZone.getTimeZone(workflow.zone()));
    schedule =
        misfire == Misfire.skip
            ? schedule.withMisfireHandlingInstructionDoNothing()
            : schedule.withMisfireHandlingInstructionFireAndProceed();
    TriggerKey triggerKey = TriggerKey.triggerKey(job.name(), workflow.name());
    Trigger existing = scheduler.getTrigger(triggerKey);
    if (existing instanceof CronTrigger cron
        && cron.getCronExpression().equals(job.cron(workflow.zone()).getCronExpression())
        && cron.getMisfireInstruction()
            == (misfire == Misfire.skip
                ? CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING
                : CronTrigger.MISFIRE_INSTRUCTION_FIRE_ONCE_NOW)) {
      // Another process of the cluster registered the same: its next fire time stands.
      return;
    }
    Trigger trigger =
        TriggerBuilder.newTrigger()
            .withIdentity(triggerKey)
            .forJob(key)
            .withSchedule(schedule)
            .build();
    scheduler.scheduleJob(detail, Set.of(trigger), true);
  }

  /** A fire of a workflow job: runs the interval that ends at its scheduled fire time. */
  @DisallowConcurrentExecution
  public static final class FireJob implements Job {
    @Override
    public void execute(JobExecutionContext context) throws JobExecutionException {
      try {
        JobRunner runner = (JobRunner) context.getScheduler().getContext().get(RUNNER);
        Workflow workflow = (Workflow) context.getScheduler().getContext().get(WORKFLOW);
        Workflow.Job job = workflow.jobs().get(context.getMergedJobDataMap().getString("job"));
        Date fired = context.getScheduledFireTime();
        String original =
            context
                .getMergedJobDataMap()
                .getString(Scheduler.FAILED_JOB_ORIGINAL_TRIGGER_FIRETIME_IN_MILLISECONDS);
        if (context.isRecovering() && original != null) {
          fired = new Date(Long.parseLong(original));
        }
        Workflow.Interval interval = workflow.intervalOfFire(job, fired.toInstant());
        runner.run(job, interval, context.isRecovering() ? "recovered" : "scheduled", true);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new JobExecutionException(e);
      } catch (Exception e) {
        throw new JobExecutionException(e);
      }
    }
  }

  /**
   * Runs the intervals that ended in the last {@code window} and have not succeeded (missed while
   * no scheduler ran, or failed), oldest first, each job after its upstream jobs ({@code
   * --catchUp}). Start it on one scheduler of a cluster: two would race for the same intervals
   * (each still succeeds once).
   */
  void catchUp(Duration window) {
    Instant now = Instant.now();
    List<Workflow.Job> ordered = workflow.ordered();
    List<Map.Entry<Instant, Integer>> fires = new ArrayList<>();
    for (int i = 0; i < ordered.size(); i++) {
      org.quartz.CronExpression cron = ordered.get(i).cron(workflow.zone());
      Date fire = cron.getNextValidTimeAfter(Date.from(now.minus(window)));
      while (fire != null && !fire.toInstant().isAfter(now)) {
        fires.add(Map.entry(fire.toInstant(), i));
        fire = cron.getNextValidTimeAfter(fire);
      }
    }
    fires.sort(
        Map.Entry.<Instant, Integer>comparingByKey().thenComparing(Map.Entry.comparingByValue()));
    for (Map.Entry<Instant, Integer> fire : fires) {
      Workflow.Job job = ordered.get(fire.getValue());
      try {
        runner.run(job, workflow.intervalEndingAt(job, fire.getKey()), "catch_up", false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        out.println("Catch-up of " + job.name() + " failed: " + e.getMessage());
      }
    }
  }

  /**
   * Alerts once per job and interval on a missed SLA: an interval not succeeded {@code
   * finish_within} after its end, or no success for {@code fresher_than}, both counted from when
   * the job was first scheduled; and refreshes the next fire times in the metrics.
   */
  void checkSlas() {
    slaChecks.incrementAndGet();
    Instant now = Instant.now();
    for (Workflow.Job job : workflow.jobs().values()) {
      try {
        Trigger trigger = scheduler.getTrigger(TriggerKey.triggerKey(job.name(), workflow.name()));
        if (trigger != null && trigger.getNextFireTime() != null) {
          metrics.nextFire(workflow.name(), job.name(), trigger.getNextFireTime().toInstant());
        }
        Instant last = runs.lastSuccess(workflow.name(), job.name());
        if (last != null) {
          metrics.succeededAt(workflow.name(), job.name(), last);
        }
        // SLAs count from when the job was first scheduled (the trigger's start, kept by the
        // cluster): a first deployment is not late for intervals that ended before it.
        Instant scheduled =
            trigger == null || trigger.getStartTime() == null
                ? Instant.EPOCH
                : trigger.getStartTime().toInstant();
        if (job.finishWithin() != null) {
          Instant due = now.minus(job.finishWithin());
          Workflow.Interval latest = workflow.intervalOfFire(job, due);
          if (!latest.end().isBefore(scheduled)
              && !runs.succeeded(workflow.name(), job.name(), latest.start())) {
            runner.alertOnce(
                job,
                latest,
                "sla_missed",
                job.name()
                    + " has not finished the interval ["
                    + latest.start()
                    + ", "
                    + latest.end()
                    + ") within "
                    + job.finishWithin()
                    + " of its end");
          }
        }
        Instant stale = now.minus(job.fresherThan() == null ? Duration.ZERO : job.fresherThan());
        if (job.fresherThan() != null
            && (last == null ? scheduled.isBefore(stale) : last.isBefore(stale))) {
          Workflow.Interval latest = workflow.intervalOfFire(job, now);
          runner.alertOnce(
              job,
              latest,
              "sla_missed",
              job.name()
                  + " is staler than "
                  + job.fresherThan()
                  + (last == null ? " (it never succeeded)" : " (last success " + last + ")"));
        }
      } catch (Exception e) {
        out.println("SLA check of " + job.name() + " failed: " + e.getMessage());
      }
    }
  }

  public SchedulerMetrics metrics() {
    return metrics;
  }

  /** How many times the SLAs were checked so far. */
  public long slaChecks() {
    return slaChecks.get();
  }

  /** Waits up to {@code timeout} for the catch-up ({@code --catchUp}) to end; whether it did. */
  public boolean awaitCatchUp(Duration timeout) throws InterruptedException {
    if (catchingUp != null) {
      catchingUp.join(timeout.toMillis());
      return !catchingUp.isAlive();
    }
    return true;
  }

  /** Blocks until {@link #close}. */
  public void awaitTermination() throws InterruptedException {
    stopped.await();
  }

  @Override
  public void close() {
    checks.shutdownNow();
    try {
      scheduler.shutdown(false);
    } catch (SchedulerException e) {
      out.println("Scheduler did not stop cleanly: " + e.getMessage());
    }
    runner.finish();
    metrics.close();
    stopped.countDown();
  }
}

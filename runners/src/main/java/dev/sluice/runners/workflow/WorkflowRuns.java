package dev.sluice.runners.workflow;

import dev.sluice.io.jdbc.JdbcConnection;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.annotation.Nullable;

/**
 * The run history of workflows, in PostgreSQL (migration V11): one row per attempt of a job for a
 * data interval, and the alerts sent, each once.
 */
public final class WorkflowRuns {
  private final JdbcConnection database;

  public WorkflowRuns(JdbcConnection database) {
    this.database = database;
  }

  /** One attempt as recorded. */
  public record Attempt(
      String job,
      Instant intervalStart,
      int attempt,
      String state,
      String trigger,
      String instance,
      @Nullable Integer exitCode,
      @Nullable String reason,
      Instant startedAt,
      @Nullable Instant finishedAt) {}

  /** Whether {@code job} has succeeded for the interval starting at {@code start}. */
  public boolean succeeded(String workflow, String job, Instant start) throws IOException {
    return count(
            "SELECT count(*) FROM sluice_workflow_runs WHERE workflow = ? AND job = ?"
                + " AND interval_start = ? AND state = 'succeeded'",
            workflow,
            job,
            start)
        > 0;
  }

  /** The attempts made so far for the job and interval. */
  public int attempts(String workflow, String job, Instant start) throws IOException {
    return (int)
        count(
            "SELECT count(*) FROM sluice_workflow_runs WHERE workflow = ? AND job = ?"
                + " AND interval_start = ?",
            workflow,
            job,
            start);
  }

  /**
   * Marks the attempts left running by a scheduler instance that is gone as failed (it was killed
   * mid-run): the job's next attempt is a retry.
   */
  public int abandon(String workflow, String job, Instant start, String reason) throws IOException {
    return database.withDirect(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "UPDATE sluice_workflow_runs SET state = 'failed', finished_at = now(),"
                      + " reason = ? WHERE workflow = ? AND job = ? AND interval_start = ?"
                      + " AND state = 'running'")) {
            s.setString(1, reason);
            s.setString(2, workflow);
            s.setString(3, job);
            s.setTimestamp(4, Timestamp.from(start));
            return s.executeUpdate();
          }
        });
  }

  /** Records the start of an attempt; its row id. */
  public long begin(
      String workflow,
      Workflow.Job job,
      Workflow.Interval interval,
      int attempt,
      String trigger,
      String instance,
      UUID runId)
      throws IOException {
    return database.withDirect(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "INSERT INTO sluice_workflow_runs (workflow, job, pipeline, interval_start,"
                      + " interval_end, attempt, state, trigger, instance, run_id) VALUES"
                      + " (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?) RETURNING id")) {
            s.setString(1, workflow);
            s.setString(2, job.name());
            s.setString(3, job.pipeline());
            s.setTimestamp(4, Timestamp.from(interval.start()));
            s.setTimestamp(5, Timestamp.from(interval.end()));
            s.setInt(6, attempt);
            s.setString(7, trigger);
            s.setString(8, instance);
            s.setObject(9, runId);
            try (ResultSet rs = s.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  /**
   * Records how an attempt ended. A success when another attempt of the same job and interval
   * succeeded meanwhile is recorded as failed, saying so: an interval succeeds once.
   */
  public void finish(long id, boolean succeeded, int exitCode, @Nullable String reason)
      throws IOException {
    try {
      update(id, succeeded ? "succeeded" : "failed", exitCode, reason);
    } catch (IOException e) {
      if (succeeded
          && e.getCause() instanceof SQLException sql
          && "23505".equals(sql.getSQLState())) {
        update(id, "failed", exitCode, "another attempt of this interval succeeded first");
      } else {
        throw e;
      }
    }
  }

  private void update(long id, String state, int exitCode, @Nullable String reason)
      throws IOException {
    database.withDirect(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "UPDATE sluice_workflow_runs SET state = ?, exit_code = ?, reason = ?,"
                      + " finished_at = now() WHERE id = ?")) {
            s.setString(1, state);
            s.setInt(2, exitCode);
            s.setString(3, reason);
            s.setLong(4, id);
            return s.executeUpdate();
          }
        });
  }

  /**
   * Claims the one alert of {@code kind} for a job and interval: true the first time, false after
   * (whichever scheduler asks).
   */
  public boolean claimAlert(String workflow, String job, Instant start, String kind)
      throws IOException {
    return database.withDirect(
            c -> {
              try (PreparedStatement s =
                  c.prepareStatement(
                      "INSERT INTO sluice_workflow_alerts (workflow, job, interval_start, kind)"
                          + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                s.setString(1, workflow);
                s.setString(2, job);
                s.setTimestamp(3, Timestamp.from(start));
                s.setString(4, kind);
                return s.executeUpdate();
              }
            })
        == 1;
  }

  /** When the job last succeeded (its interval's end), or null. */
  public @Nullable Instant lastSuccess(String workflow, String job) throws IOException {
    return database.withDirect(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "SELECT max(finished_at) FROM sluice_workflow_runs WHERE workflow = ? AND job = ?"
                      + " AND state = 'succeeded'")) {
            s.setString(1, workflow);
            s.setString(2, job);
            try (ResultSet rs = s.executeQuery()) {
              rs.next();
              Timestamp t = rs.getTimestamp(1);
              return t == null ? null : t.toInstant();
            }
          }
        });
  }

  /** Every attempt of the workflow, oldest first. */
  public List<Attempt> history(String workflow) throws IOException {
    return database.withDirect(
        c -> {
          List<Attempt> out = new ArrayList<>();
          try (PreparedStatement s =
              c.prepareStatement(
                  "SELECT job, interval_start, attempt, state, trigger, instance, exit_code,"
                      + " reason, started_at, finished_at FROM sluice_workflow_runs"
                      + " WHERE workflow = ? ORDER BY interval_start, id")) {
            s.setString(1, workflow);
            try (ResultSet rs = s.executeQuery()) {
              while (rs.next()) {
                int code = rs.getInt(7);
                Integer exit = rs.wasNull() ? null : code;
                Timestamp finished = rs.getTimestamp(10);
                out.add(
                    new Attempt(
                        rs.getString(1),
                        rs.getTimestamp(2).toInstant(),
                        rs.getInt(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        exit,
                        rs.getString(8),
                        rs.getTimestamp(9).toInstant(),
                        finished == null ? null : finished.toInstant()));
              }
            }
          }
          return out;
        });
  }

  private long count(String sql, String workflow, String job, Instant start) throws IOException {
    return database.withDirect(
        c -> {
          try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, workflow);
            s.setString(2, job);
            s.setTimestamp(3, Timestamp.from(start));
            try (ResultSet rs = s.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }
}

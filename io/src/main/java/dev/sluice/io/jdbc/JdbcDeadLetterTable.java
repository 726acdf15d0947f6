package dev.sluice.io.jdbc;

import dev.sluice.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import javax.annotation.Nullable;

/**
 * The SQL of a dead-letter table made by the {@code sluice_dead_letters} migration, besides writing
 * ({@link JdbcDeadLetterWriter}): whether it exists, reading back the rows no replay has marked,
 * and marking rows replayed (columns {@code replayed_at}, {@code replay_run}, migration V7).
 */
public final class JdbcDeadLetterTable {
  private static final String COLUMNS =
      "id, pipeline, step, origin, reason, payload, payload_preview, error_class, error_message,"
          + " stack_trace, rule, attempt, failed_at, schema_name, schema_version, source_timestamp,"
          + " payload_header";

  /** Rows marked in one statement. */
  private static final int MARK_BATCH = 10_000;

  private JdbcDeadLetterTable() {}

  /** One stored dead letter and its row id. */
  public record Stored(long id, DeadLetter letter) {}

  /** Fails, naming the option, the table and the database, unless the table exists. */
  public static void checkExists(JdbcConnection connection, String table) {
    try (Connection c = connection.openDirect();
        PreparedStatement s = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      s.setString(1, SqlIdentifiers.quote("deadLetter", table));
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw new IllegalArgumentException(
              "--deadLetter=jdbc:"
                  + table
                  + ": table "
                  + table
                  + " does not exist on "
                  + connection.safeUrl()
                  + "; apply the migrations (sluice migrate)");
        }
      }
    } catch (SQLException e) {
      throw new IllegalArgumentException(
          "--deadLetter=jdbc:"
              + table
              + ": cannot check the table on "
              + connection.safeUrl()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The rows of {@code pipeline} that no replay has marked, failed in {@code [since, until)}
   * (either open) and selected by {@code matches}, oldest first. Read-only.
   */
  public static List<Stored> unreplayed(
      JdbcConnection connection,
      String table,
      String pipeline,
      @Nullable Instant since,
      @Nullable Instant until,
      Predicate<DeadLetter> matches)
      throws SQLException {
    String sql =
        "SELECT "
            + COLUMNS
            // V9's column, read so that a table made before it still replays.
            + ", to_jsonb(d) ->> 'payload_encryption' AS payload_encryption FROM "
            + SqlIdentifiers.quote("from", table)
            + " d WHERE pipeline = ? AND replayed_at IS NULL"
            + (since == null ? "" : " AND failed_at >= ?")
            + (until == null ? "" : " AND failed_at < ?")
            + " ORDER BY failed_at, id";
    List<Stored> out = new ArrayList<>();
    try (Connection c = connection.openDirect()) {
      c.setReadOnly(true);
      try (PreparedStatement s = c.prepareStatement(sql)) {
        int i = 1;
        s.setString(i++, pipeline);
        if (since != null) {
          s.setTimestamp(i++, Timestamp.from(since));
        }
        if (until != null) {
          s.setTimestamp(i, Timestamp.from(until));
        }
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            DeadLetter d = row(rs);
            if (matches.test(d)) {
              out.add(new Stored(rs.getLong("id"), d));
            }
          }
        }
      }
    } catch (SQLException e) {
      if ("42703".equals(e.getSQLState())) {
        throw new IllegalArgumentException(
            "--from=jdbc:"
                + table
                + " has no replay columns: apply the migrations (sluice migrate; V7 adds"
                + " replayed_at and replay_run)",
            e);
      }
      throw e;
    }
    return out;
  }

  private static DeadLetter row(ResultSet rs) throws SQLException {
    Timestamp source = rs.getTimestamp("source_timestamp");
    byte[] header = rs.getBytes("payload_header");
    int version = rs.getInt("schema_version");
    boolean noVersion = rs.wasNull();
    return DeadLetter.newBuilder()
        .setPipeline(rs.getString("pipeline"))
        .setStep(rs.getString("step"))
        .setOrigin(rs.getString("origin"))
        .setReason(rs.getString("reason"))
        .setPayload(ByteBuffer.wrap(rs.getBytes("payload")))
        .setPayloadPreview(rs.getString("payload_preview"))
        .setErrorClass(rs.getString("error_class"))
        .setErrorMessage(rs.getString("error_message"))
        .setStackTrace(rs.getString("stack_trace"))
        .setRule(rs.getString("rule"))
        .setAttempt(rs.getInt("attempt"))
        .setFailedAt(rs.getTimestamp("failed_at").toInstant())
        .setSchemaName(rs.getString("schema_name"))
        .setSchemaVersion(noVersion ? null : version)
        .setSourceTimestamp(source == null ? null : source.toInstant())
        .setPayloadHeader(header == null ? null : ByteBuffer.wrap(header))
        .setPayloadEncryption(rs.getString("payload_encryption"))
        .build();
  }

  /** Marks the rows with these ids replayed by run {@code runId}, in one transaction. */
  public static void markReplayed(
      JdbcConnection connection, String table, List<Long> ids, String runId) throws SQLException {
    String sql =
        "UPDATE "
            + SqlIdentifiers.quote("from", table)
            + " SET replayed_at = now(), replay_run = ? WHERE id = ANY (?) AND replayed_at IS NULL";
    try (Connection c = connection.openDirect()) {
      c.setAutoCommit(false);
      try (PreparedStatement s = c.prepareStatement(sql)) {
        for (int from = 0; from < ids.size(); from += MARK_BATCH) {
          Array array =
              c.createArrayOf(
                  "bigint",
                  ids.subList(from, Math.min(ids.size(), from + MARK_BATCH)).toArray(Long[]::new));
          s.setString(1, runId);
          s.setArray(2, array);
          s.executeUpdate();
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      }
    }
  }
}

package dev.sluice.pipelines.kafkatojdbc;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcUpsert;
import dev.sluice.io.jdbc.SqlIdentifiers;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;

/**
 * The staging copy of a target table for write-audit-publish: created empty and unlogged next to
 * the table ({@code LIKE ... INCLUDING ALL}, so the upsert's key holds), filled by the run, merged
 * into the table in one transaction with the same versioned upsert once the quality gate is open,
 * and dropped whatever happens.
 */
final class StagingTable {
  private final JdbcConnection connection;
  private final JdbcUpsert target;
  private final String table;
  private final String staging;

  private StagingTable(JdbcConnection connection, JdbcUpsert target, String table, String staging) {
    this.connection = connection;
    this.target = target;
    this.table = table;
    this.staging = staging;
  }

  /** {@code sluice_stage_<random>}, in the target's schema when it names one. */
  static String name(String target) {
    List<String> parts = SqlIdentifiers.parts("table", target);
    String table = "sluice_stage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    return parts.size() == 2 ? parts.get(0) + "." + table : table;
  }

  /** Creates the stage of {@code table}; {@code target} is the upsert into {@code table}. */
  static StagingTable create(
      JdbcConnection connection, JdbcUpsert target, String table, String staging) {
    try (Connection c = connection.openDirect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE UNLOGGED TABLE "
              + SqlIdentifiers.quote("table", staging)
              + " (LIKE "
              + SqlIdentifiers.quote("table", table)
              + " INCLUDING ALL)");
    } catch (SQLException e) {
      throw new IllegalArgumentException(
          "Cannot create the staging table "
              + staging
              + " next to "
              + table
              + ": "
              + e.getMessage(),
          e);
    }
    return new StagingTable(connection, target, table, staging);
  }

  /**
   * Merges the staged rows into the target (newer versions only) and drops the stage, atomically.
   */
  void mergeAndDrop() throws SQLException {
    String sql = target.mergeFrom(staging);
    try (Connection c = connection.openDirect()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.executeUpdate(sql);
        s.execute("DROP TABLE " + SqlIdentifiers.quote("table", staging));
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Drops the stage if it is still there (a closed gate, a failed run). */
  void drop() throws SQLException {
    try (Connection c = connection.openDirect();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + SqlIdentifiers.quote("table", staging));
    }
  }
}

package dev.sluice.pipelines.kafkatojdbc;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.SqlIdentifiers;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.avro.Schema;

/**
 * The staging copy of a target table for write-audit-publish: created empty and unlogged next to
 * the table ({@code LIKE ... INCLUDING ALL}, so the upsert's key holds), filled by the run, merged
 * into the table in one transaction with the same versioned upsert once the quality gate is open,
 * and dropped whatever happens.
 */
final class StagingTable {
  private final JdbcConnection connection;
  private final String target;
  private final String staging;
  private final Schema schema;
  private final List<String> keys;
  private final String versionField;

  private StagingTable(
      JdbcConnection connection,
      String target,
      String staging,
      Schema schema,
      List<String> keys,
      String versionField) {
    this.connection = connection;
    this.target = target;
    this.staging = staging;
    this.schema = schema;
    this.keys = keys;
    this.versionField = versionField;
  }

  /** {@code sluice_stage_<random>}, in the target's schema when it names one. */
  static String name(String target) {
    List<String> parts = SqlIdentifiers.parts("table", target);
    String table = "sluice_stage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    return parts.size() == 2 ? parts.get(0) + "." + table : table;
  }

  static StagingTable create(
      JdbcConnection connection,
      String target,
      String staging,
      Schema schema,
      List<String> keys,
      String versionField) {
    try (Connection c = connection.openDirect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE UNLOGGED TABLE "
              + SqlIdentifiers.quote("table", staging)
              + " (LIKE "
              + SqlIdentifiers.quote("table", target)
              + " INCLUDING ALL)");
    } catch (SQLException e) {
      throw new IllegalArgumentException(
          "Cannot create the staging table "
              + staging
              + " next to "
              + target
              + ": "
              + e.getMessage(),
          e);
    }
    return new StagingTable(connection, target, staging, schema, keys, versionField);
  }

  /**
   * Merges the staged rows into the target (newer versions only) and drops the stage, atomically.
   */
  void mergeAndDrop() throws SQLException {
    List<String> columns = new ArrayList<>();
    List<String> updates = new ArrayList<>();
    for (Schema.Field field : schema.getFields()) {
      String column = SqlIdentifiers.quotePart("column", field.name());
      columns.add(column);
      if (!keys.contains(field.name())) {
        updates.add(column + " = EXCLUDED." + column);
      }
    }
    String quotedTarget = SqlIdentifiers.quote("table", target);
    String list = String.join(", ", columns);
    String sql =
        "INSERT INTO "
            + quotedTarget
            + " ("
            + list
            + ") SELECT "
            + list
            + " FROM "
            + SqlIdentifiers.quote("table", staging)
            + " ON CONFLICT ("
            + String.join(
                ", ", keys.stream().map(k -> SqlIdentifiers.quotePart("keyFields", k)).toList())
            + ") DO UPDATE SET "
            + String.join(", ", updates)
            + " WHERE "
            + quotedTarget
            + "."
            + SqlIdentifiers.quotePart("versionField", versionField)
            + " <= EXCLUDED."
            + SqlIdentifiers.quotePart("versionField", versionField);
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

package dev.sluice.io.jdbc;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The staging copy of a target table for write-audit-publish: created empty and unlogged next to
 * the table ({@code LIKE ... INCLUDING ALL}, so the upsert's key holds), filled by the run through
 * {@link JdbcUpsert#withStaging}, merged into the table in one transaction with the same versioned
 * upsert once the quality gate is open, and dropped whatever happens.
 *
 * @param connection the database of both tables
 * @param table the target table
 * @param staging the staging table's name
 */
public record StagingTable(JdbcConnection connection, String table, String staging)
    implements Serializable {
  public StagingTable {
    SqlIdentifiers.parts("table", table);
    SqlIdentifiers.parts("staging table", staging);
  }

  /**
   * A stage of {@code table} named {@code sluice_stage_<random>}, in its schema when it names one.
   */
  public static StagingTable next(JdbcConnection connection, String table) {
    List<String> parts = SqlIdentifiers.parts("table", table);
    String name = "sluice_stage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    return new StagingTable(
        connection, table, parts.size() == 2 ? parts.get(0) + "." + name : name);
  }

  /** {@code CREATE UNLOGGED TABLE <staging> (LIKE <table> INCLUDING ALL)}. */
  String createSql() {
    return "CREATE UNLOGGED TABLE "
        + SqlIdentifiers.quote("table", staging)
        + " (LIKE "
        + SqlIdentifiers.quote("table", table)
        + " INCLUDING ALL)";
  }

  /** Creates the stage, empty. */
  public void create() {
    try (Connection c = connection.openDirect();
        Statement s = c.createStatement()) {
      s.execute(createSql());
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
  }

  /**
   * Merges the staged rows into the target with the versioned upsert {@code into} (newer versions
   * only) and drops the stage, atomically. A staged row the merge did not apply although the target
   * holds no equal or newer version of its key (a trigger or rule on the target discarded it) fails
   * the merge, which then changes nothing: the run counted it written.
   */
  public void mergeAndDrop(UpsertSql into) throws SQLException {
    if (!into.table().equals(table)) {
      throw new IllegalArgumentException(
          "the merge of stage " + staging + " must write " + table + ", not " + into.table());
    }
    String sql = into.mergeFrom(staging);
    try (Connection c = connection.openDirect()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.executeUpdate(sql);
        checkApplied(s, into);
        s.execute("DROP TABLE " + SqlIdentifiers.quote("table", staging));
        c.commit();
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback); // the merge's own error is the one to report
        }
        throw e;
      }
    }
  }

  private void checkApplied(Statement s, UpsertSql into) throws SQLException {
    List<String> keys = new ArrayList<>();
    long count = 0;
    try (ResultSet rows = s.executeQuery(into.notApplied(staging, into.keyColumnsOfSource()))) {
      int columns = rows.getMetaData().getColumnCount();
      while (rows.next()) {
        count++;
        if (keys.size() < 5) {
          List<String> key = new ArrayList<>();
          for (int i = 1; i <= columns; i++) {
            key.add(String.valueOf(rows.getObject(i)));
          }
          keys.add(String.join("/", key));
        }
      }
    }
    if (count > 0) {
      throw new IllegalStateException(
          count
              + " staged row(s) were not applied to "
              + table
              + " although it holds no equal or newer version of their key (a trigger or rule on"
              + " the table discarded them), e.g. key(s) "
              + String.join(", ", keys)
              + "; nothing was merged");
    }
  }

  /** Drops the stage if it is still there (a closed gate, a failed run). */
  public void drop() throws SQLException {
    try (Connection c = connection.openDirect();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + SqlIdentifiers.quote("table", staging));
    }
  }
}

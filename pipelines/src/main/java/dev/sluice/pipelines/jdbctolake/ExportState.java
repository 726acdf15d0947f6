package dev.sluice.pipelines.jdbctolake;

import dev.sluice.io.jdbc.SqlIdentifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** The committed high-watermark of each export, in the state table (migration V5). */
final class ExportState {
  private final String table;

  ExportState(String table) {
    this.table = SqlIdentifiers.quote("stateTable", table);
  }

  /** The last committed high-watermark, empty before the first run (or after a reset). */
  Optional<String> highWatermark(Connection c, String export) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT high_watermark FROM " + table + " WHERE export_name = ?")) {
      s.setString(1, export);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
      }
    }
  }

  void commit(Connection c, String export, String column, String highWatermark, long rows)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO "
                + table
                + " (export_name, watermark_column, high_watermark, rows_exported, committed_at)"
                + " VALUES (?, ?, ?, ?, now()) ON CONFLICT (export_name) DO UPDATE SET"
                + " watermark_column = EXCLUDED.watermark_column, high_watermark ="
                + " EXCLUDED.high_watermark, rows_exported = EXCLUDED.rows_exported,"
                + " committed_at = EXCLUDED.committed_at")) {
      s.setString(1, export);
      s.setString(2, column);
      s.setString(3, highWatermark);
      s.setLong(4, rows);
      s.executeUpdate();
    }
  }
}

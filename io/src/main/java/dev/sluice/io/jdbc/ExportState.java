package dev.sluice.io.jdbc;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The committed high-watermark of each export, in a state table made by the migrations ({@code
 * sluice_export_state}: export_name, watermark_column, high_watermark, rows_exported,
 * committed_at).
 *
 * @param table the state table, schema-qualified or not
 */
public record ExportState(String table) implements Serializable {
  public ExportState {
    SqlIdentifiers.parts("stateTable", table);
  }

  private String quoted() {
    return SqlIdentifiers.quote("stateTable", table);
  }

  /** The last committed high-watermark, empty before the first run (or after a reset). */
  public Optional<String> highWatermark(Connection c, String export) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT high_watermark FROM " + quoted() + " WHERE export_name = ?")) {
      s.setString(1, export);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
      }
    }
  }

  /** The statement {@link #commit} runs: one upsert of the export's row. */
  String commitSql() {
    return "INSERT INTO "
        + quoted()
        + " (export_name, watermark_column, high_watermark, rows_exported, committed_at)"
        + " VALUES (?, ?, ?, ?, now()) ON CONFLICT (export_name) DO UPDATE SET"
        + " watermark_column = EXCLUDED.watermark_column, high_watermark ="
        + " EXCLUDED.high_watermark, rows_exported = EXCLUDED.rows_exported,"
        + " committed_at = EXCLUDED.committed_at";
  }

  /** Records {@code highWatermark} (null: nothing exported yet) as the export's committed one. */
  public void commit(Connection c, String export, String column, String highWatermark, long rows)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(commitSql())) {
      s.setString(1, export);
      s.setString(2, column);
      s.setString(3, highWatermark);
      s.setLong(4, rows);
      s.executeUpdate();
    }
  }
}

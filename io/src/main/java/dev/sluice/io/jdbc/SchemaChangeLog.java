package dev.sluice.io.jdbc;

import dev.sluice.io.files.CandidateContract;
import dev.sluice.transforms.parse.SchemaChanges;
import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;

/**
 * The columns runs added to a table under {@code --onSchemaChange=add_columns}, in a ledger table
 * ({@code sluice_schema_changes}, migration V8): each change is added as a nullable column ({@code
 * ALTER TABLE ... ADD COLUMN IF NOT EXISTS}) and recorded, in one transaction of its own, so that
 * the column and its record exist together or not at all; a second worker adding the same column
 * finds it there. An SCD2 history adds each column to its ledger of versions in the same
 * transaction. The next run of the table reads the recorded columns as part of its contract.
 *
 * @param ledger the ledger table
 * @param table the table the columns are added to
 * @param contract the reviewed contract (JSON), which the candidate version extends
 * @param candidates where the candidate contract is written (a directory), or null
 * @param companions tables shaped like {@code table} that get each column too (an SCD2 history's
 *     ledger of versions)
 */
public record SchemaChangeLog(
    String ledger,
    String table,
    String contract,
    @Nullable String candidates,
    List<String> companions)
    implements Serializable {
  public SchemaChangeLog {
    SqlIdentifiers.parts("schemaChangeLog", ledger);
    SqlIdentifiers.parts("table", table);
    companions = List.copyOf(companions);
    for (String companion : companions) {
      SqlIdentifiers.parts("table", companion);
    }
  }

  /** The columns of {@code table} only. */
  public SchemaChangeLog(
      String ledger, String table, String contract, @Nullable String candidates) {
    this(ledger, table, contract, candidates, List.of());
  }

  /** The same log, each column also added to {@code companion}. */
  public SchemaChangeLog withCompanion(String companion) {
    List<String> all = new java.util.ArrayList<>(companions);
    all.add(companion);
    return new SchemaChangeLog(ledger, table, contract, candidates, all);
  }

  /** The tables each column is added to: the table, then its companions. */
  private List<String> altered() {
    List<String> all = new java.util.ArrayList<>();
    all.add(table);
    all.addAll(companions);
    return all;
  }

  /** The SQL type of a column added for values of an Avro type. */
  static String sqlType(String avroType) {
    return switch (avroType) {
      case "long" -> "bigint";
      case "double" -> "double precision";
      case "boolean" -> "boolean";
      case "string" -> "text";
      default ->
          throw new IllegalArgumentException("no column can be added for values of " + avroType);
    };
  }

  /** The columns recorded for the table, name to Avro type, in the order they were added. */
  public Map<String, String> recorded(Connection connection) throws SQLException {
    Map<String, String> out = new LinkedHashMap<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "SELECT column_name, avro_type FROM "
                + SqlIdentifiers.quote("schemaChangeLog", ledger)
                + " WHERE table_name = ? ORDER BY applied_at, column_name")) {
      select.setString(1, table);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          out.put(rows.getString(1), rows.getString(2));
        }
      }
    }
    return out;
  }

  /**
   * Adds the changes as nullable columns and records them, in the caller's transaction (which
   * commits them together); returns every column recorded for the table then, whose types win over
   * the changes' (another worker may have added a column first).
   */
  public Map<String, String> add(
      Connection connection,
      Collection<SchemaChanges.Change> changes,
      String pipeline,
      String runId)
      throws SQLException {
    try (PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO "
                    + SqlIdentifiers.quote("schemaChangeLog", ledger)
                    + " (table_name, column_name, avro_type, sql_type, first_origin, pipeline,"
                    + " run_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (table_name, column_name)"
                    + " DO NOTHING");
        Statement ddl = connection.createStatement()) {
      for (SchemaChanges.Change change : changes) {
        String column = SqlIdentifiers.quotePart("column", change.field());
        insert.setString(1, table);
        insert.setString(2, change.field());
        insert.setString(3, change.type());
        insert.setString(4, sqlType(change.type()));
        insert.setString(5, change.origin());
        insert.setString(6, pipeline);
        insert.setString(7, runId);
        insert.executeUpdate();
        for (String altered : altered()) {
          ddl.execute(
              "ALTER TABLE "
                  + SqlIdentifiers.quote("table", altered)
                  + " ADD COLUMN IF NOT EXISTS "
                  + column
                  + " "
                  + sqlType(change.type()));
        }
      }
    }
    return recorded(connection);
  }

  /**
   * Writes the candidate contract under {@link #candidates} as {@code <dataset>/v<N>.avsc}, the
   * layout of the schemas module's history, for review and commit; returns where, or null.
   */
  public @Nullable String writeCandidate(Map<String, String> columns) throws IOException {
    return new CandidateContract(contract, candidates).write(columns);
  }
}

package dev.sluice.io.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.avro.Schema;

/**
 * The SQL of the versioned upsert into a table shaped like a schema, with every identifier
 * validated and quoted: a newer version wins; an equal version wins when its row hashes at least as
 * high, so that two different rows of one version converge to the same one whatever their order,
 * and a replay of the same row is applied (and counted) again.
 *
 * <pre>INSERT INTO t (...) VALUES (...) ON CONFLICT (key) DO UPDATE SET ...
 *   WHERE t.version &lt; EXCLUDED.version OR (t.version = EXCLUDED.version AND md5(t) &lt;= md5(EXCLUDED))
 * </pre>
 *
 * @param table the table written
 * @param schema the schema whose fields are the columns, as JSON
 * @param keyFields the fields of the table's unique key
 * @param versionField the version field (a long or an int)
 * @param deletedKeys a table of keys deleted for good, each with the version of its delete
 *     (cdc-to-jdbc's hard deletes), or null: a row is only written when no delete there is as new
 */
public record UpsertSql(
    String table,
    String schema,
    List<String> keyFields,
    String versionField,
    @Nullable String deletedKeys)
    implements Serializable {
  public UpsertSql {
    SqlIdentifiers.parts("table", table);
    if (deletedKeys != null) {
      SqlIdentifiers.parts("deletedKeys", deletedKeys);
    }
    checkArgument(
        keyFields != null && !keyFields.isEmpty(), "keyFields must name at least one field");
    keyFields = List.copyOf(keyFields);
    Schema parsed = new Schema.Parser().parse(schema);
    for (String key : keyFields) {
      SqlIdentifiers.checkPart("keyFields", String.join(",", keyFields), key);
      checkArgument(
          parsed.getField(key) != null,
          "key field '%s' is not a field of schema %s",
          key,
          parsed.getName());
    }
    checkArgument(versionField != null, "versionField must name a field");
    SqlIdentifiers.checkPart("versionField", versionField, versionField);
    Schema.Field f = parsed.getField(versionField);
    checkArgument(
        f != null,
        "version field '%s' is not a field of schema %s",
        versionField,
        parsed.getName());
    Schema.Type type = AvroColumns.nonNull(f.schema()).getType();
    checkArgument(
        type == Schema.Type.LONG || type == Schema.Type.INT,
        "version field '%s' must be a long or int, but is %s",
        versionField,
        f.schema());
  }

  /** The upsert of {@code schema}'s records into {@code table}. */
  public static UpsertSql of(String table, Schema schema, List<String> keys, String version) {
    return new UpsertSql(table, schema.toString(), keys, version, null);
  }

  /** The same upsert of records of another schema (one with more columns) into the same table. */
  public UpsertSql withSchema(Schema other) {
    return new UpsertSql(table, other.toString(), keyFields, versionField, deletedKeys);
  }

  /** The same upsert into another table shaped like this one (a run's staging table). */
  public UpsertSql into(String other) {
    return new UpsertSql(other, schema, keyFields, versionField, deletedKeys);
  }

  /**
   * The same upsert, keeping out rows whose key {@code table} (key columns and the version column,
   * unique on the key) holds with the same or a newer version: keys deleted for good stay deleted
   * when an older write of them comes again.
   */
  public UpsertSql withDeletedKeys(String table) {
    return new UpsertSql(this.table, schema, keyFields, versionField, table);
  }

  /**
   * Moves the rows marked deleted ({@code deletedColumn} true) out of the table into {@link
   * #deletedKeys}: their keys with the newest version of their delete. One statement.
   */
  public String purgeDeleted(String deletedColumn) {
    checkArgument(deletedKeys != null, "purgeDeleted needs a deleted-keys table");
    String version = SqlIdentifiers.quotePart("versionField", versionField);
    String ledger = SqlIdentifiers.quote("deletedKeys", deletedKeys);
    String kept = String.join(", ", quotedKeys()) + ", " + version;
    return "WITH sluice_gone AS (DELETE FROM "
        + SqlIdentifiers.quote("table", table)
        + " WHERE "
        + SqlIdentifiers.quotePart("column", deletedColumn)
        + " RETURNING "
        + kept
        + ") INSERT INTO "
        + ledger
        + " ("
        + kept
        + ") SELECT "
        + kept
        + " FROM sluice_gone ON CONFLICT ("
        + String.join(", ", quotedKeys())
        + ") DO UPDATE SET "
        + version
        + " = GREATEST("
        + ledger
        + "."
        + version
        + ", EXCLUDED."
        + version
        + ")";
  }

  /**
   * A query of no rows that fails unless the deleted-keys table has the key and version columns.
   */
  public String probeDeletedKeys() {
    checkArgument(deletedKeys != null, "probeDeletedKeys needs a deleted-keys table");
    return "SELECT "
        + String.join(", ", quotedKeys())
        + ", "
        + SqlIdentifiers.quotePart("versionField", versionField)
        + " FROM "
        + SqlIdentifiers.quote("deletedKeys", deletedKeys)
        + " WHERE false";
  }

  /**
   * The rows of {@code source} (a table shaped like the target, with the key and version columns)
   * that the table does not hold: neither the table nor the deleted-keys table has their key at the
   * same or a newer version. After an upsert these are the rows it did not apply although the guard
   * would have let them in (a trigger or a rule on the table discarded them); every other row not
   * written is a stale version. Selects {@code columns} (quoted by the caller) of them.
   */
  public String notApplied(String source, String columns) {
    String version = SqlIdentifiers.quotePart("versionField", versionField);
    StringBuilder sql =
        new StringBuilder("SELECT ")
            .append(columns)
            .append(" FROM ")
            .append(SqlIdentifiers.quote("table", source))
            .append(" AS sluice_b WHERE NOT EXISTS (")
            .append(holds(SqlIdentifiers.quote("table", table), version))
            .append(")");
    if (deletedKeys != null) {
      sql.append(" AND NOT EXISTS (")
          .append(holds(SqlIdentifiers.quote("deletedKeys", deletedKeys), version))
          .append(")");
    }
    return sql.toString();
  }

  /** Whether {@code table} holds {@code sluice_b}'s key at its version or a newer one. */
  private String holds(String quotedTable, String version) {
    List<String> match = new ArrayList<>();
    for (String key : quotedKeys()) {
      match.add("sluice_h." + key + " = sluice_b." + key);
    }
    return "SELECT 1 FROM "
        + quotedTable
        + " AS sluice_h WHERE "
        + String.join(" AND ", match)
        + " AND sluice_h."
        + version
        + " >= sluice_b."
        + version;
  }

  /** The key columns, quoted and joined, as {@code sluice_b}'s (for {@link #notApplied}). */
  public String keyColumnsOfSource() {
    return String.join(", ", quotedKeys().stream().map(k -> "sluice_b." + k).toList());
  }

  public Schema avroSchema() {
    return new Schema.Parser().parse(schema);
  }

  /** The upsert of one row, as a prepared statement with one {@code ?} per column. */
  public String values() {
    return upsert("VALUES (" + String.join(", ", columns().stream().map(c -> "?").toList()) + ")");
  }

  /**
   * The same versioned upsert of every row of {@code source}, a table shaped like the target (a
   * batch's temporary table, a run's staging table): {@code INSERT ... SELECT ... ON CONFLICT}. A
   * key that appears more than once in {@code source} is merged once, with its newest version (the
   * same tie-break as the guard on equal versions), as {@code ON CONFLICT} cannot touch a row twice
   * in one statement.
   */
  public String mergeFrom(String source) {
    return mergeFrom(source, true);
  }

  /**
   * The merge from {@code source}; {@code distinct} false when every key is there once (no sorting
   * or hashing needed to pick one row per key).
   */
  public String mergeFrom(String source, boolean distinct) {
    if (!distinct) {
      return upsert(
          "SELECT "
              + String.join(", ", columns())
              + " FROM "
              + SqlIdentifiers.quote("table", source));
    }
    List<String> keys = quotedKeys();
    String version = SqlIdentifiers.quotePart("versionField", versionField);
    return upsert(
        "SELECT "
            + String.join(", ", columns())
            + " FROM (SELECT DISTINCT ON ("
            + String.join(", ", keys)
            + ") "
            + String.join(", ", columns())
            + " FROM "
            + SqlIdentifiers.quote("table", source)
            + " ORDER BY "
            + String.join(", ", keys)
            + ", "
            + version
            + " DESC, "
            + rowHash(null)
            + " DESC) AS sluice_newest");
  }

  /** The schema's fields as quoted column names, in schema order. */
  public List<String> columns() {
    List<String> columns = new ArrayList<>();
    for (Schema.Field field : avroSchema().getFields()) {
      columns.add(SqlIdentifiers.quotePart("column", field.name()));
    }
    return columns;
  }

  private List<String> quotedKeys() {
    return keyFields.stream().map(k -> SqlIdentifiers.quotePart("keyFields", k)).toList();
  }

  /**
   * The tie-break between two rows of one key and one version: the MD5 of the row's text, in a UTC
   * session ({@code JdbcConnection} sets it), so that the same pair is ordered the same way by
   * every batch, every run and every order of arrival.
   */
  private String rowHash(String qualifier) {
    String prefix = qualifier == null ? "" : qualifier + ".";
    return "md5(ROW("
        + String.join(", ", columns().stream().map(c -> prefix + c).toList())
        + ")::text)";
  }

  private String upsert(String rows) {
    String quotedTable = SqlIdentifiers.quote("table", table);
    if (deletedKeys != null) {
      String version = SqlIdentifiers.quotePart("versionField", versionField);
      List<String> match = new ArrayList<>();
      for (String key : quotedKeys()) {
        match.add("sluice_deleted." + key + " = sluice_in." + key);
      }
      rows =
          "SELECT "
              + String.join(", ", columns())
              + " FROM ("
              + rows
              + ") AS sluice_in ("
              + String.join(", ", columns())
              + ") WHERE NOT EXISTS (SELECT 1 FROM "
              + SqlIdentifiers.quote("deletedKeys", deletedKeys)
              + " AS sluice_deleted WHERE "
              + String.join(" AND ", match)
              + " AND sluice_deleted."
              + version
              + " >= sluice_in."
              + version
              + ")";
    }
    List<String> updates = new ArrayList<>();
    for (Schema.Field field : avroSchema().getFields()) {
      if (!keyFields.contains(field.name())) {
        String column = SqlIdentifiers.quotePart("column", field.name());
        updates.add(column + " = EXCLUDED." + column);
      }
    }
    String version = SqlIdentifiers.quotePart("versionField", versionField);
    String current = quotedTable + "." + version;
    return "INSERT INTO "
        + quotedTable
        + " ("
        + String.join(", ", columns())
        + ") "
        + rows
        + " ON CONFLICT ("
        + String.join(", ", quotedKeys())
        + ") DO UPDATE SET "
        + String.join(", ", updates)
        + " WHERE "
        + current
        + " < EXCLUDED."
        + version
        + " OR ("
        + current
        + " = EXCLUDED."
        + version
        + " AND "
        + rowHash(quotedTable)
        + " <= "
        + rowHash("EXCLUDED")
        + ")";
  }
}

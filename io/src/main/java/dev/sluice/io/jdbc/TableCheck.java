package dev.sluice.io.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;

/**
 * Checks, before anything is read, that a target table exists and fits a schema: a column for every
 * field, of a type that holds its values, nullable where the field is optional, no other required
 * column, and a unique key on the key fields. A mismatch lists every difference.
 */
public final class TableCheck {
  private TableCheck() {}

  /** Thrown when the table does not fit; its message lists each difference. */
  public static final class MismatchException extends IllegalArgumentException {
    private final List<String> differences;

    MismatchException(String table, String schema, List<String> differences) {
      super(
          "Table "
              + table
              + " does not fit schema "
              + schema
              + ":\n  - "
              + String.join("\n  - ", differences));
      this.differences = List.copyOf(differences);
    }

    public List<String> differences() {
      return differences;
    }
  }

  private record Column(
      String type, Integer precision, Integer scale, boolean nullable, boolean hasDefault) {}

  /**
   * The columns of {@code table}'s primary key, in key order; empty when it has none (or does not
   * exist). An unqualified table is looked up in the session's current schema.
   */
  public static List<String> primaryKey(Connection connection, String table) throws SQLException {
    List<String> parts = SqlIdentifiers.parts("table", table);
    String tableSchema = parts.size() == 2 ? parts.get(0) : connection.getSchema();
    Map<Short, String> columns = new TreeMap<>();
    try (ResultSet keys =
        connection.getMetaData().getPrimaryKeys(null, tableSchema, parts.get(parts.size() - 1))) {
      while (keys.next()) {
        columns.put(keys.getShort("KEY_SEQ"), keys.getString("COLUMN_NAME"));
      }
    }
    return List.copyOf(columns.values());
  }

  /**
   * The precision and scale of {@code table}'s numeric columns that declare them, by column name:
   * what a transform's decimal output is rounded to.
   */
  public static Map<String, int[]> decimalColumns(Connection connection, String table)
      throws SQLException {
    List<String> parts = SqlIdentifiers.parts("table", table);
    Map<String, int[]> decimals = new java.util.LinkedHashMap<>();
    columns(connection, parts.size() == 2 ? parts.get(0) : null, parts.get(parts.size() - 1))
        .forEach(
            (name, column) -> {
              if (column.type().equals("numeric") && column.precision() != null) {
                decimals.put(
                    name,
                    new int[] {column.precision(), column.scale() == null ? 0 : column.scale()});
              }
            });
    return decimals;
  }

  public static void verify(
      Connection connection, String table, Schema schema, List<String> keyFields)
      throws SQLException {
    List<String> parts = SqlIdentifiers.parts("table", table);
    String tableSchema = parts.size() == 2 ? parts.get(0) : null;
    String tableName = parts.get(parts.size() - 1);
    Map<String, Column> columns = columns(connection, tableSchema, tableName);
    if (columns.isEmpty()) {
      throw new MismatchException(
          table, schema.getName(), List.of("table " + table + " does not exist"));
    }
    List<String> differences = new ArrayList<>();
    Set<String> fields = new HashSet<>();
    for (Schema.Field field : schema.getFields()) {
      fields.add(field.name());
      Column column = columns.get(field.name());
      if (column == null) {
        differences.add(
            "column "
                + field.name()
                + " is missing (field "
                + field.name()
                + ": "
                + describe(field.schema())
                + ")");
        continue;
      }
      String wanted =
          AvroColumns.mismatch(field.schema(), column.type(), column.precision(), column.scale());
      if (wanted != null) {
        differences.add(
            "column "
                + field.name()
                + " is "
                + render(column)
                + " but field "
                + field.name()
                + " needs "
                + wanted);
      }
      if (AvroColumns.isOptional(field.schema()) && !column.nullable()) {
        differences.add(
            "column " + field.name() + " is NOT NULL but field " + field.name() + " is optional");
      }
    }
    columns.forEach(
        (name, column) -> {
          if (!fields.contains(name) && !column.nullable() && !column.hasDefault()) {
            differences.add(
                "column " + name + " is NOT NULL without default but no field fills it");
          }
        });
    for (String key : keyFields) {
      if (schema.getField(key) == null) {
        differences.add("key field " + key + " is not a field of schema " + schema.getName());
      }
    }
    if (differences.isEmpty()) {
      String keyProblem = uniqueKeyProblem(connection, tableSchema, tableName, keyFields);
      if (keyProblem != null) {
        differences.add(keyProblem);
      }
    }
    if (!differences.isEmpty()) {
      throw new MismatchException(table, schema.getName(), differences);
    }
  }

  private static String describe(Schema schema) {
    Schema type = AvroColumns.nonNull(schema);
    String name =
        type.getLogicalType() != null ? type.getLogicalType().getName() : type.getType().getName();
    return AvroColumns.isOptional(schema) ? "optional " + name : name;
  }

  private static String render(Column column) {
    if (column.type().equals("numeric") && column.precision() != null) {
      return "numeric(" + column.precision() + "," + column.scale() + ")";
    }
    return column.type();
  }

  private static Map<String, Column> columns(Connection connection, String schema, String table)
      throws SQLException {
    String sql =
        "SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable, column_default"
            + " FROM information_schema.columns WHERE table_name = ? AND table_schema = "
            + (schema == null ? "current_schema()" : "?");
    Map<String, Column> columns = new HashMap<>();
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, table);
      if (schema != null) {
        statement.setString(2, schema);
      }
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          columns.put(
              rs.getString(1),
              new Column(
                  rs.getString(2),
                  (Integer) rs.getObject(3),
                  (Integer) rs.getObject(4),
                  "YES".equals(rs.getString(5)),
                  rs.getString(6) != null));
        }
      }
    }
    return columns;
  }

  /**
   * Null when a unique key on exactly the key fields can be the arbiter of {@code ON CONFLICT}: a
   * primary key, a unique constraint or a unique index that is valid, not partial, not on
   * expressions and not deferrable. Otherwise what is missing or unusable.
   */
  private static String uniqueKeyProblem(
      Connection connection, String schema, String table, List<String> keys) throws SQLException {
    String sql =
        "SELECT array_agg(a.attname::text ORDER BY a.attname), pg_get_indexdef(i.indexrelid),"
            + " i.indpred IS NOT NULL, i.indexprs IS NOT NULL, NOT i.indimmediate,"
            + " NOT i.indisvalid FROM pg_index i"
            + " JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)"
            + " WHERE i.indisunique AND c.relname = ? AND n.nspname = "
            + (schema == null ? "current_schema()" : "?")
            + " GROUP BY i.indexrelid, i.indpred IS NOT NULL, i.indexprs IS NOT NULL,"
            + " i.indimmediate, i.indisvalid";
    Set<String> wanted = new HashSet<>(keys);
    String unusable = null;
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, table);
      if (schema != null) {
        statement.setString(2, schema);
      }
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          String[] columns = (String[]) rs.getArray(1).getArray();
          if (!new HashSet<>(List.of(columns)).equals(wanted)) {
            continue;
          }
          String why =
              rs.getBoolean(3)
                  ? "is partial"
                  : rs.getBoolean(4)
                      ? "is on expressions"
                      : rs.getBoolean(5) ? "is deferrable" : rs.getBoolean(6) ? "is invalid" : null;
          if (why == null) {
            return null;
          }
          unusable =
              "the unique index on ("
                  + String.join(", ", keys)
                  + ") "
                  + why
                  + ", so the upsert's ON CONFLICT cannot use it: "
                  + rs.getString(2);
        }
      }
    }
    return unusable != null
        ? unusable
        : "no primary key or unique constraint on exactly (" + String.join(", ", keys) + ")";
  }
}

package dev.sluice.io.jdbc;

import dev.sluice.transforms.rules.ReferenceLookup;
import dev.sluice.transforms.rules.Relationships;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Looks {@code relationships} values up in a database table: one query per batch of distinct
 * values, {@code SELECT v FROM unnest(?) v WHERE NOT EXISTS (SELECT 1 FROM <to> WHERE <column> =
 * v)}, with the values bound as an array of the column's own type so its index serves.
 */
public final class JdbcReferenceLookup implements ReferenceLookup {
  private final JdbcConnection connection;

  public JdbcReferenceLookup(JdbcConnection connection) {
    this.connection = connection;
  }

  /** The referenced column's SQL type name, as PostgreSQL reports it (e.g. {@code int8}). */
  private static String columnType(Connection c, Relationships rule) throws SQLException {
    try (PreparedStatement s =
            c.prepareStatement("SELECT " + column(rule) + " FROM " + table(rule) + " WHERE false");
        ResultSet rs = s.executeQuery()) {
      return rs.getMetaData().getColumnTypeName(1);
    }
  }

  /** The schema the rule's table resolves to through the search path (null if none such). */
  private static String namespaceOf(Connection c, Relationships rule) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT n.nspname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE r.oid = to_regclass(?)")) {
      s.setString(1, table(rule));
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static String table(Relationships rule) {
    return SqlIdentifiers.quote("to", rule.toTable());
  }

  private static String column(Relationships rule) {
    return SqlIdentifiers.quotePart("column", rule.toColumn());
  }

  @Override
  public void verify(Relationships rule) throws SQLException {
    try (Connection c = connection.openDirect()) {
      String namespace = namespaceOf(c, rule);
      if (namespace != null
          && (namespace.equals("pg_catalog")
              || namespace.equals("information_schema")
              || namespace.startsWith("pg_toast"))) {
        throw new IllegalArgumentException(
            "rule "
                + rule.name()
                + ": "
                + rule.toTable()
                + " is a system catalog ("
                + namespace
                + "); relationships rules look values up in tables of the data only");
      }
      columnType(c, rule);
    } catch (SQLException e) {
      throw new SQLException(
          "rule "
              + rule.name()
              + ": cannot read "
              + rule.toTable()
              + "."
              + rule.toColumn()
              + " on "
              + connection.safeUrl()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public Set<String> missing(Relationships rule, List<String> values) throws SQLException {
    try (Connection c = connection.open()) {
      String type = columnType(c, rule);
      Set<String> missing = new LinkedHashSet<>();
      List<Object> typed = new ArrayList<>();
      for (String value : values) {
        try {
          typed.add(
              switch (type) {
                case "int8" -> Long.valueOf(value);
                case "int4", "int2" -> Integer.valueOf(value);
                default -> value;
              });
        } catch (NumberFormatException e) {
          missing.add(value); // cannot be in a numeric column
        }
      }
      Array array = c.createArrayOf(type, typed.toArray());
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT u.v FROM unnest(?) AS u(v) WHERE NOT EXISTS (SELECT 1 FROM "
                  + table(rule)
                  + " t WHERE t."
                  + column(rule)
                  + " = u.v)")) {
        s.setArray(1, array);
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            missing.add(rs.getString(1));
          }
        }
      } finally {
        array.free();
      }
      return missing;
    }
  }
}

package dev.sluice.io.jdbc;

import dev.sluice.transforms.sql.RefreshedLookup;
import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * A reference table of the pipeline's database that a transform's SQL may join, under {@code name}:
 * its columns are read from the database when the run is planned, and its rows once per run.
 *
 * @param name the table's name in the SQL
 * @param table the database table
 * @param columns its columns, with their JDBC types
 */
public record JdbcLookupTable(String name, String table, List<Column> columns)
    implements Serializable {
  /** One column: its name, {@link Types} code and nullability. */
  public record Column(String name, int type, String typeName, boolean nullable)
      implements Serializable {}

  public JdbcLookupTable {
    columns = List.copyOf(columns);
  }

  /**
   * Parses {@code name=jdbc:<table>} and reads the table's columns, naming what is wrong: the form,
   * a table that does not exist, a column of a type SQL rows cannot carry.
   */
  public static JdbcLookupTable describe(JdbcConnection connection, String option) {
    int equals = option.indexOf('=');
    String name = equals < 0 ? "" : option.substring(0, equals).strip();
    String target = equals < 0 ? "" : option.substring(equals + 1).strip();
    if (!name.matches("[A-Za-z][A-Za-z0-9_]*") || !target.startsWith("jdbc:")) {
      throw new IllegalArgumentException(
          "--lookup must be <name>=jdbc:<table>, e.g. rates=jdbc:public.currency_rates, but was '"
              + option
              + "'");
    }
    String table = target.substring("jdbc:".length());
    String quoted = SqlIdentifiers.quote("lookup", table);
    try {
      return connection.withDirect(c -> new JdbcLookupTable(name, table, columns(c, name, quoted)));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--lookup "
              + name
              + ": cannot read table "
              + table
              + " on "
              + connection.safeUrl()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static List<Column> columns(Connection c, String name, String quoted)
      throws java.sql.SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT * FROM " + quoted + " WHERE false");
        ResultSet rs = s.executeQuery()) {
      ResultSetMetaData meta = rs.getMetaData();
      List<Column> columns = new ArrayList<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        Column column =
            new Column(
                meta.getColumnName(i),
                meta.getColumnType(i),
                meta.getColumnTypeName(i),
                meta.isNullable(i) != ResultSetMetaData.columnNoNulls);
        fieldType(name, column);
        columns.add(column);
      }
      return columns;
    }
  }

  private static FieldType fieldType(String lookup, Column column) {
    return switch (column.type()) {
      case Types.BIGINT -> FieldType.INT64;
      case Types.INTEGER, Types.SMALLINT, Types.TINYINT -> FieldType.INT32;
      case Types.NUMERIC, Types.DECIMAL -> FieldType.DECIMAL;
      case Types.REAL -> FieldType.FLOAT;
      case Types.DOUBLE, Types.FLOAT -> FieldType.DOUBLE;
      case Types.BOOLEAN, Types.BIT -> FieldType.BOOLEAN;
      case Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR, Types.NVARCHAR ->
          FieldType.STRING;
      case Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE -> FieldType.DATETIME;
      case Types.DATE -> FieldType.logicalType(SqlTypes.DATE);
      default ->
          throw new IllegalArgumentException(
              "--lookup "
                  + lookup
                  + ": column "
                  + column.name()
                  + " is "
                  + column.typeName()
                  + ", which a lookup cannot carry (cast it in a view)");
    };
  }

  /** The rows' schema, as the transform's SQL sees the table. */
  public Schema schema() {
    Schema.Builder builder = Schema.builder();
    for (Column column : columns) {
      builder.addField(
          Schema.Field.of(column.name(), fieldType(name, column)).withNullable(column.nullable()));
    }
    return builder.build();
  }

  /** Reads the whole table once, as rows of {@link #schema}. */
  public PTransform<PBegin, PCollection<Row>> read(JdbcConnection connection) {
    JdbcLookupTable lookup = this;
    return new PTransform<>("Lookup." + name) {
      @Override
      public PCollection<Row> expand(PBegin input) {
        return input
            .apply("Table", Create.of(table))
            .apply("Read", ParDo.of(new ReadFn(connection, lookup)))
            .setRowSchema(schema());
      }
    };
  }

  /** Reads the whole table now, as rows of {@link #schema}. */
  public List<Row> rows(JdbcConnection connection) throws IOException {
    Schema schema = schema();
    List<String> names =
        columns.stream().map(c -> SqlIdentifiers.quotePart("column", c.name())).toList();
    return connection.withDirect(
        c -> {
          List<Row> rows = new ArrayList<>();
          try (PreparedStatement s =
                  c.prepareStatement(
                      "SELECT "
                          + String.join(", ", names)
                          + " FROM "
                          + SqlIdentifiers.quote("lookup", table));
              ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
              List<Object> values = new ArrayList<>(names.size());
              for (int i = 0; i < names.size(); i++) {
                values.add(ReadFn.value(rs, i + 1, columns.get(i)));
              }
              rows.add(Row.withSchema(schema).addValues(values).build());
            }
          }
          return rows;
        });
  }

  /**
   * The table as a lookup read by key and read again every {@code refresh} ({@code
   * --lookupRefresh}); {@code pipeline} names its counters.
   */
  public RefreshedLookup refreshed(
      JdbcConnection connection, org.joda.time.Duration refresh, String pipeline) {
    JdbcLookupTable lookup = this;
    return RefreshedLookup.of(name, schema(), () -> lookup.rows(connection), refresh, pipeline);
  }

  private static final class ReadFn extends DoFn<String, Row> {
    private final JdbcConnection connection;
    private final JdbcLookupTable lookup;

    ReadFn(JdbcConnection connection, JdbcLookupTable lookup) {
      this.connection = connection;
      this.lookup = lookup;
    }

    @ProcessElement
    public void process(OutputReceiver<Row> out) throws IOException {
      lookup.rows(connection).forEach(out::output);
    }

    private static Object value(ResultSet rs, int index, Column column)
        throws java.sql.SQLException {
      Object value =
          switch (column.type()) {
            case Types.BIGINT -> rs.getLong(index);
            case Types.INTEGER, Types.SMALLINT, Types.TINYINT -> rs.getInt(index);
            case Types.NUMERIC, Types.DECIMAL -> {
              BigDecimal decimal = rs.getBigDecimal(index);
              yield decimal;
            }
            case Types.REAL -> rs.getFloat(index);
            case Types.DOUBLE, Types.FLOAT -> rs.getDouble(index);
            case Types.BOOLEAN, Types.BIT -> rs.getBoolean(index);
            case Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE -> {
              java.sql.Timestamp t = rs.getTimestamp(index);
              yield t == null ? null : new Instant(t.getTime());
            }
            case Types.DATE -> {
              java.sql.Date d = rs.getDate(index);
              yield d == null ? null : d.toLocalDate();
            }
            default -> rs.getString(index);
          };
      return rs.wasNull() ? null : value;
    }
  }
}

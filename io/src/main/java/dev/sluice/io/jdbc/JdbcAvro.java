package dev.sluice.io.jdbc;

import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Maps a PostgreSQL relation's columns to an Avro schema (from JDBC metadata), and rows to records:
 *
 * <ul>
 *   <li>numeric(p,s) → decimal(p,s), keeping precision and scale; unconstrained numeric is refused;
 *   <li>timestamp, timestamptz → timestamp-micros (timestamp without zone read as UTC);
 *   <li>date → date; uuid → string (uuid); text, varchar, char → string; boolean; bytea → bytes;
 *   <li>json, jsonb → string; smallint, integer → int; bigint → long; real → float; double →
 *       double;
 *   <li>arrays of those → Avro arrays.
 * </ul>
 *
 * Nullable columns become optional fields and NULLs are kept. Any other type stops the run with a
 * message naming the column and its type.
 */
public final class JdbcAvro implements Serializable {
  /** One column: its name, database type and Avro field type. */
  record Column(String name, String dbType, String avroJson, boolean array, String elementType)
      implements Serializable {}

  private final String schemaJson;
  private final List<Column> columns;
  private transient Schema schema;

  private JdbcAvro(String schemaJson, List<Column> columns) {
    this.schemaJson = schemaJson;
    this.columns = List.copyOf(columns);
  }

  /**
   * A column as the database describes it.
   *
   * @param name the column's label
   * @param dbType the type's name, lower case ({@code _text} for an array of text)
   * @param precision the precision (numeric) or 0
   * @param scale the scale (numeric) or 0
   * @param nullable whether it may hold NULL
   */
  public record ColumnType(String name, String dbType, int precision, int scale, boolean nullable)
      implements Serializable {}

  /** Reads the columns of {@code relation} (a quoted table or a parenthesised query with alias). */
  public static JdbcAvro describe(Connection connection, String relation, String recordName)
      throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT * FROM " + relation + " WHERE false")) {
      ResultSetMetaData meta = rs.getMetaData();
      List<ColumnType> types = new ArrayList<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        types.add(
            new ColumnType(
                meta.getColumnLabel(i),
                meta.getColumnTypeName(i).toLowerCase(Locale.ROOT),
                meta.getPrecision(i),
                meta.getScale(i),
                meta.isNullable(i) != ResultSetMetaData.columnNoNulls));
      }
      return of(relation, recordName, types);
    }
  }

  /**
   * The Avro record of these columns, named {@code recordName}; {@code relation} names them in
   * messages. Fails naming every column whose type has no Avro mapping.
   */
  public static JdbcAvro of(String relation, String recordName, List<ColumnType> types) {
    SchemaBuilder.FieldAssembler<Schema> fields =
        SchemaBuilder.record(recordName).namespace("dev.sluice.export").fields();
    List<Column> columns = new ArrayList<>();
    List<String> unsupported = new ArrayList<>();
    for (ColumnType column : types) {
      String name = column.name();
      String dbType = column.dbType();
      boolean array = dbType.startsWith("_");
      String element = array ? dbType.substring(1) : dbType;
      Schema type = avroType(element, column.precision(), column.scale());
      if (type == null) {
        unsupported.add(
            "column "
                + name
                + " has type "
                + (array ? element + "[]" : dbType)
                + (element.equals("numeric")
                    ? " without precision (cast it, e.g. numeric(18,2))"
                    : ""));
        continue;
      }
      if (array) {
        type = Schema.createArray(Schema.createUnion(Schema.create(Schema.Type.NULL), type));
      }
      boolean nullable = column.nullable();
      Schema fieldType =
          nullable ? Schema.createUnion(Schema.create(Schema.Type.NULL), type) : type;
      if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        unsupported.add("column '" + name + "' is not a valid Avro field name");
        continue;
      }
      fields =
          nullable
              ? fields.name(name).type(fieldType).withDefault(null)
              : fields.name(name).type(fieldType).noDefault();
      columns.add(new Column(name, dbType, type.toString(), array, element));
    }
    if (!unsupported.isEmpty()) {
      throw new IllegalArgumentException(
          "Unsupported column types in "
              + relation
              + ":\n  - "
              + String.join("\n  - ", unsupported));
    }
    return new JdbcAvro(fields.endRecord().toString(), columns);
  }

  private static Schema avroType(String type, int precision, int scale) {
    return switch (type) {
      case "int2", "int4", "smallint", "integer" -> Schema.create(Schema.Type.INT);
      case "int8", "bigint" -> Schema.create(Schema.Type.LONG);
      case "float4" -> Schema.create(Schema.Type.FLOAT);
      case "float8" -> Schema.create(Schema.Type.DOUBLE);
      case "bool", "boolean" -> Schema.create(Schema.Type.BOOLEAN);
      case "numeric" ->
          precision <= 0 || precision > 1000
              ? null
              : LogicalTypes.decimal(precision, scale)
                  .addToSchema(Schema.create(Schema.Type.BYTES));
      case "timestamp", "timestamptz" ->
          LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG));
      case "date" -> LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
      case "uuid" -> LogicalTypes.uuid().addToSchema(Schema.create(Schema.Type.STRING));
      case "text", "varchar", "bpchar", "name", "json", "jsonb" ->
          Schema.create(Schema.Type.STRING);
      case "bytea" -> Schema.create(Schema.Type.BYTES);
      default -> null;
    };
  }

  public Schema schema() {
    if (schema == null) {
      schema = new Schema.Parser().parse(schemaJson);
    }
    return schema;
  }

  /** The current row as a record; a value that does not fit its column's Avro type is a failure. */
  public GenericRecord record(ResultSet rs) throws SQLException, RecordException {
    GenericData.Record record = new GenericData.Record(schema());
    for (int i = 0; i < columns.size(); i++) {
      Column column = columns.get(i);
      Object value;
      if (column.array()) {
        Array array = rs.getArray(i + 1);
        if (array == null) {
          value = null;
        } else {
          List<Object> items = new ArrayList<>();
          try (ResultSet elements = array.getResultSet()) {
            while (elements.next()) {
              items.add(value(elements, 2, column.elementType(), column));
            }
          }
          value = items;
        }
      } else {
        value = value(rs, i + 1, column.dbType(), column);
      }
      record.put(i, value);
    }
    return record;
  }

  private Object value(ResultSet rs, int index, String type, Column column)
      throws SQLException, RecordException {
    Object raw = rs.getObject(index);
    if (raw == null) {
      return null;
    }
    return switch (type) {
      case "int2", "int4", "smallint", "integer" -> rs.getInt(index);
      case "int8", "bigint" -> rs.getLong(index);
      case "float4" -> rs.getFloat(index);
      case "float8" -> rs.getDouble(index);
      case "bool", "boolean" -> rs.getBoolean(index);
      case "numeric" -> decimal(rs.getString(index), column);
      case "timestamptz" -> micros(rs.getObject(index, OffsetDateTime.class), column);
      case "timestamp" ->
          micros(rs.getObject(index, LocalDateTime.class).atOffset(ZoneOffset.UTC), column);
      case "date" -> (int) rs.getObject(index, LocalDate.class).toEpochDay();
      case "bytea" -> ByteBuffer.wrap(rs.getBytes(index));
      default -> rs.getString(index);
    };
  }

  private static ByteBuffer decimal(String text, Column column) throws RecordException {
    if (text.equalsIgnoreCase("NaN") || text.toLowerCase(Locale.ROOT).contains("infinity")) {
      throw new RecordException(
          FailureReason.SCHEMA,
          "column " + column.name() + " holds " + text + ", which a decimal cannot");
    }
    LogicalTypes.Decimal decimal =
        (LogicalTypes.Decimal) new Schema.Parser().parse(column.avroJson()).getLogicalType();
    BigDecimal value = new BigDecimal(text).setScale(decimal.getScale(), RoundingMode.UNNECESSARY);
    return ByteBuffer.wrap(value.unscaledValue().toByteArray());
  }

  private static long micros(OffsetDateTime time, Column column) throws RecordException {
    if (time == null) {
      throw new RecordException(
          FailureReason.SCHEMA, "column " + column.name() + " holds an infinite timestamp");
    }
    var instant = time.toInstant();
    try {
      return Math.addExact(
          Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
    } catch (ArithmeticException e) {
      throw new RecordException(
          FailureReason.SCHEMA,
          "column " + column.name() + " holds " + time + ", out of range for timestamp-micros");
    }
  }

  /** The database type of a column of the relation, e.g. {@code timestamptz}. */
  public String typeOf(String column) {
    return columns.stream()
        .filter(c -> c.name().equals(column))
        .map(Column::dbType)
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "column '"
                        + column
                        + "' is not in the source; columns: "
                        + columns.stream().map(Column::name).toList()));
  }
}

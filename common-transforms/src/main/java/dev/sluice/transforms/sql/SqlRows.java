package dev.sluice.transforms.sql;

import dev.sluice.transforms.core.AvroTypes;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.Schema.TypeName;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.joda.time.ReadableInstant;

/**
 * Sluice's records (raw Avro values as parsed: decimals as unscaled bytes, timestamps as longs,
 * enums as symbols) as Beam SQL rows and back. Enums become strings, timestamps {@code TIMESTAMP}
 * and decimals {@code DECIMAL}; nested records, arrays and maps are refused by name.
 */
public final class SqlRows implements Serializable {
  /** The hidden column that carries each row's source (origin and original bytes) through SQL. */
  public static final String SOURCE = "_sluice_source";

  /** The precision and scale of an output decimal that no contract or table column gives. */
  public static final int DEFAULT_PRECISION = 38;

  public static final int DEFAULT_SCALE = 9;

  private SqlRows() {}

  /** The SQL row schema of Avro records of {@code avro}, with the hidden source column. */
  public static Schema rowSchema(org.apache.avro.Schema avro, boolean withSource) {
    return rowSchema(avro, withSource, false);
  }

  /**
   * The same; {@code allNullable} makes every column nullable, as an aggregate's input must be on
   * Flink: Beam SQL keeps a SUM's running value in state under the column's type, and a NOT NULL
   * type cannot hold the empty start.
   */
  public static Schema rowSchema(
      org.apache.avro.Schema avro, boolean withSource, boolean allNullable) {
    Schema.Builder builder = Schema.builder();
    for (org.apache.avro.Schema.Field field : avro.getFields()) {
      builder.addField(
          Schema.Field.of(field.name(), fieldType(field.name(), field.schema()))
              .withNullable(allNullable || AvroTypes.isOptional(field.schema())));
    }
    if (withSource) {
      builder.addByteArrayField(SOURCE);
    }
    return builder.build();
  }

  private static FieldType fieldType(String name, org.apache.avro.Schema schema) {
    org.apache.avro.Schema type = AvroTypes.nonNull(schema);
    LogicalType logical = type.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal) {
      return FieldType.DECIMAL;
    }
    if (logical instanceof LogicalTypes.TimestampMillis
        || logical instanceof LogicalTypes.TimestampMicros) {
      return FieldType.DATETIME;
    }
    if (logical instanceof LogicalTypes.Date) {
      return FieldType.logicalType(SqlTypes.DATE);
    }
    return switch (type.getType()) {
      case BOOLEAN -> FieldType.BOOLEAN;
      case INT -> FieldType.INT32;
      case LONG -> FieldType.INT64;
      case FLOAT -> FieldType.FLOAT;
      case DOUBLE -> FieldType.DOUBLE;
      case STRING, ENUM -> FieldType.STRING;
      case BYTES, FIXED -> FieldType.BYTES;
      default ->
          throw new IllegalArgumentException(
              "field "
                  + name
                  + " is a "
                  + type.getType().getName()
                  + ", which the transform step cannot read (it reads flat records)");
    };
  }

  /** The non-null type of each field of {@code avro}, in order, for {@link #toRow}. */
  public static org.apache.avro.Schema[] fieldTypes(org.apache.avro.Schema avro) {
    return avro.getFields().stream()
        .map(f -> AvroTypes.nonNull(f.schema()))
        .toArray(org.apache.avro.Schema[]::new);
  }

  /** The row of a raw Avro record, in {@code schema} (from {@link #rowSchema}). */
  public static Row toRow(GenericRecord record, Schema schema, @Nullable byte[] source) {
    return toRow(record, fieldTypes(record.getSchema()), schema, source);
  }

  /**
   * The row of a raw Avro record whose fields have the non-null {@code types} ({@link
   * #fieldTypes}), in {@code schema}.
   */
  public static Row toRow(
      GenericRecord record,
      org.apache.avro.Schema[] types,
      Schema schema,
      @Nullable byte[] source) {
    List<Object> values = new ArrayList<>(schema.getFieldCount());
    for (int i = 0; i < types.length; i++) {
      values.add(toSql(record.get(i), types[i]));
    }
    if (source != null) {
      values.add(source);
    }
    return Row.withSchema(schema).attachValues(values);
  }

  private static @Nullable Object toSql(@Nullable Object value, org.apache.avro.Schema type) {
    if (value == null) {
      return null;
    }
    LogicalType logical = type.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal decimal) {
      return value instanceof BigDecimal big
          ? big
          : type.getType() == org.apache.avro.Schema.Type.FIXED
              ? new BigDecimal(
                  new java.math.BigInteger(((GenericData.Fixed) value).bytes()), decimal.getScale())
              : AvroTypes.decimal((ByteBuffer) value, decimal.getScale());
    }
    if (logical instanceof LogicalTypes.TimestampMillis) {
      return new Instant(((Number) value).longValue());
    }
    if (logical instanceof LogicalTypes.TimestampMicros) {
      return new Instant(Math.floorDiv(((Number) value).longValue(), 1000L));
    }
    if (logical instanceof LogicalTypes.Date) {
      return LocalDate.ofEpochDay(((Number) value).intValue());
    }
    return switch (type.getType()) {
      case STRING, ENUM -> value.toString();
      case BYTES -> AvroTypes.bytes((ByteBuffer) value);
      case FIXED -> ((GenericData.Fixed) value).bytes();
      default -> value;
    };
  }

  /**
   * The Avro schema of rows of {@code schema} (without the hidden column): a decimal takes its
   * precision and scale from {@code decimals} (the target's column or contract), else {@value
   * #DEFAULT_PRECISION},{@value #DEFAULT_SCALE}.
   */
  public static org.apache.avro.Schema avroSchema(
      Schema schema, String name, Map<String, int[]> decimals) {
    List<org.apache.avro.Schema.Field> fields = new ArrayList<>();
    for (Schema.Field field : schema.getFields()) {
      if (field.getName().equals(SOURCE)) {
        continue;
      }
      org.apache.avro.Schema type = avroType(field, decimals.get(field.getName()));
      fields.add(
          field.getType().getNullable()
              ? new org.apache.avro.Schema.Field(
                  field.getName(),
                  org.apache.avro.Schema.createUnion(
                      org.apache.avro.Schema.create(org.apache.avro.Schema.Type.NULL), type),
                  null,
                  JsonProperties.NULL_VALUE)
              : new org.apache.avro.Schema.Field(field.getName(), type));
    }
    return org.apache.avro.Schema.createRecord(
        name, "Rows of transform step " + name, "dev.sluice.transformed", false, fields);
  }

  private static org.apache.avro.Schema avroType(Schema.Field field, @Nullable int[] decimal) {
    FieldType type = field.getType();
    if (type.getTypeName() == TypeName.LOGICAL_TYPE
        && SqlTypes.DATE.getIdentifier().equals(type.getLogicalType().getIdentifier())) {
      return LogicalTypes.date()
          .addToSchema(org.apache.avro.Schema.create(org.apache.avro.Schema.Type.INT));
    }
    return switch (type.getTypeName()) {
      case BOOLEAN -> org.apache.avro.Schema.create(org.apache.avro.Schema.Type.BOOLEAN);
      case BYTE, INT16, INT32 -> org.apache.avro.Schema.create(org.apache.avro.Schema.Type.INT);
      case INT64 -> org.apache.avro.Schema.create(org.apache.avro.Schema.Type.LONG);
      case FLOAT -> org.apache.avro.Schema.create(org.apache.avro.Schema.Type.FLOAT);
      case DOUBLE -> org.apache.avro.Schema.create(org.apache.avro.Schema.Type.DOUBLE);
      case STRING -> org.apache.avro.Schema.create(org.apache.avro.Schema.Type.STRING);
      case BYTES -> org.apache.avro.Schema.create(org.apache.avro.Schema.Type.BYTES);
      case DATETIME ->
          LogicalTypes.timestampMillis()
              .addToSchema(org.apache.avro.Schema.create(org.apache.avro.Schema.Type.LONG));
      case DECIMAL ->
          LogicalTypes.decimal(
                  decimal == null ? DEFAULT_PRECISION : decimal[0],
                  decimal == null ? DEFAULT_SCALE : decimal[1])
              .addToSchema(org.apache.avro.Schema.create(org.apache.avro.Schema.Type.BYTES));
      default ->
          throw new IllegalArgumentException(
              "output column "
                  + field.getName()
                  + " is a "
                  + type
                  + ", which no Sluice sink takes: cast it to a scalar type");
    };
  }

  /**
   * The raw Avro record of {@code row} in {@code avro}: decimals are rounded half up to the
   * target's scale (as the database rounds them), and refused when they exceed its precision.
   */
  public static GenericRecord toRecord(Row row, org.apache.avro.Schema avro) {
    return toRecord(row, avro, positions(avro, row.getSchema()), true);
  }

  /** Where each field of {@code avro} is in rows of {@code rows}, for {@link #toRecord}. */
  public static int[] positions(org.apache.avro.Schema avro, Schema rows) {
    return avro.getFields().stream().mapToInt(f -> rows.indexOf(f.name())).toArray();
  }

  /**
   * The same, with the positions of the fields in the row given ({@link #positions}); unless {@code
   * checked}, a decimal is not checked against its precision (the sink's column is).
   */
  public static GenericRecord toRecord(
      Row row, org.apache.avro.Schema avro, int[] positions, boolean checked) {
    GenericData.Record record = new GenericData.Record(avro);
    for (org.apache.avro.Schema.Field field : avro.getFields()) {
      Object value = row.getValue(positions[field.pos()]);
      if (value == null) {
        if (!AvroTypes.isOptional(field.schema())) {
          throw new IllegalArgumentException("column " + field.name() + " is null");
        }
        continue;
      }
      record.put(
          field.pos(), toAvro(field.name(), value, AvroTypes.nonNull(field.schema()), checked));
    }
    return record;
  }

  private static Object toAvro(
      String name, Object value, org.apache.avro.Schema type, boolean checked) {
    LogicalType logical = type.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal decimal) {
      BigDecimal scaled = ((BigDecimal) value).setScale(decimal.getScale(), RoundingMode.HALF_UP);
      if (checked && scaled.precision() > decimal.getPrecision()) {
        throw new ArithmeticException(
            "column "
                + name
                + " is "
                + AvroTypes.text((BigDecimal) value)
                + ", more than the "
                + decimal.getPrecision()
                + " digits of decimal("
                + decimal.getPrecision()
                + ","
                + decimal.getScale()
                + ")");
      }
      return ByteBuffer.wrap(scaled.unscaledValue().toByteArray());
    }
    if (logical instanceof LogicalTypes.TimestampMillis) {
      return ((ReadableInstant) value).getMillis();
    }
    if (logical instanceof LogicalTypes.TimestampMicros) {
      return ((ReadableInstant) value).getMillis() * 1000L;
    }
    if (logical instanceof LogicalTypes.Date) {
      return (int) ((LocalDate) value).toEpochDay();
    }
    return switch (type.getType()) {
      case STRING -> value.toString();
      case ENUM -> {
        if (!type.hasEnumSymbol(value.toString())) {
          throw new IllegalArgumentException(
              "column "
                  + name
                  + " is '"
                  + value
                  + "', not one of "
                  + String.join(", ", type.getEnumSymbols()));
        }
        yield new GenericData.EnumSymbol(type, value.toString());
      }
      case BYTES -> ByteBuffer.wrap((byte[]) value);
      case INT -> ((Number) value).intValue();
      case LONG -> ((Number) value).longValue();
      case FLOAT -> ((Number) value).floatValue();
      case DOUBLE -> ((Number) value).doubleValue();
      default -> value;
    };
  }
}

package dev.sluice.io.iceberg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.parse.SchemaChanges;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Avro records of a contract as Iceberg's generic records of a table's schema, field by name: a
 * column the contract lacks is null, or, for a record of an open schema ({@code
 * --onSchemaChange=add_columns}), the value of the new field of its name the record carries; values
 * take the Java forms Iceberg's writers expect (timestamps as {@code OffsetDateTime} in UTC,
 * decimals as {@code BigDecimal}, dates as {@code LocalDate}).
 */
public final class IcebergRecords implements Serializable {
  private final Schema table;

  public IcebergRecords(Schema table) {
    this.table = table;
  }

  /**
   * The record as a row of the table. A new field's value was checked against its column before
   * ({@link AddIcebergColumns}): one that does not fit here fails the write.
   */
  public Record convert(org.apache.avro.generic.GenericRecord avro) {
    GenericRecord record = GenericRecord.create(table);
    org.apache.avro.Schema schema = avro.getSchema();
    Map<String, JsonNode> extras = null;
    for (Types.NestedField column : table.columns()) {
      org.apache.avro.Schema.Field field = schema.getField(column.name());
      if (field != null) {
        record.setField(column.name(), value(column.type(), field, avro.get(field.pos())));
      } else if (SchemaChanges.isOpen(schema)) {
        try {
          if (extras == null) {
            extras = SchemaChanges.extras(avro);
          }
          JsonNode node = extras.get(column.name());
          if (node != null) {
            record.setField(column.name(), fromJson(column, node));
          }
        } catch (RecordException e) {
          throw new IllegalArgumentException(e.getMessage(), e);
        }
      }
    }
    return record;
  }

  /**
   * The Avro type of the values a new field's column holds: {@code long}, {@code double}, {@code
   * boolean} or {@code string}, as {@link SchemaChanges#inferType} names them; null for a column of
   * another type (no new field's value is written into it).
   */
  static @Nullable String avroType(@Nullable Type type) {
    if (type == null) {
      return null;
    }
    return switch (type.typeId()) {
      case LONG -> "long";
      case DOUBLE -> "double";
      case BOOLEAN -> "boolean";
      case STRING -> "string";
      default -> null;
    };
  }

  /** The Iceberg type of a column added for a new field's values of {@code avroType}. */
  static Type icebergType(String avroType) {
    Type type = icebergTypeOrNull(avroType);
    if (type == null) {
      throw new IllegalArgumentException("no column can be added for values of " + avroType);
    }
    return type;
  }

  /** As {@link #icebergType}, or null when no column can be added for such values. */
  static @Nullable Type icebergTypeOrNull(String avroType) {
    return switch (avroType) {
      case "long" -> Types.LongType.get();
      case "double" -> Types.DoubleType.get();
      case "boolean" -> Types.BooleanType.get();
      case "string" -> Types.StringType.get();
      default -> null;
    };
  }

  /**
   * A new field's JSON value in the type of {@code column}, failing as a {@code schema} dead letter
   * when it does not fit.
   */
  static Object fromJson(Types.NestedField column, JsonNode node) throws RecordException {
    String avroType = avroType(column.type());
    if (avroType == null) {
      throw new RecordException(
          FailureReason.SCHEMA,
          "new field '"
              + column.name()
              + "' goes to a column of type "
              + column.type()
              + ": a new field is only written into a long, double, boolean or string column");
    }
    org.apache.avro.Schema.Field field = SchemaChanges.column(column.name(), avroType);
    return value(column.type(), field, SchemaChanges.value(field, node));
  }

  private static @Nullable Object value(
      Type type, org.apache.avro.Schema.Field field, @Nullable Object value) {
    if (value == null) {
      return null;
    }
    org.apache.avro.Schema schema = AvroTypes.nonNull(field.schema());
    LogicalType logical = schema.getLogicalType();
    switch (type.typeId()) {
      case STRING:
        return value.toString();
      case LONG:
        return ((Number) value).longValue();
      case INTEGER:
        return ((Number) value).intValue();
      case DOUBLE:
        return ((Number) value).doubleValue();
      case FLOAT:
        return ((Number) value).floatValue();
      case BOOLEAN:
        return value;
      case DECIMAL:
        return AvroTypes.decimal((ByteBuffer) value, ((LogicalTypes.Decimal) logical).getScale());
      case DATE:
        return LocalDate.ofEpochDay(((Number) value).longValue());
      case TIMESTAMP:
        Instant instant = instant(logical, ((Number) value).longValue());
        return ((Types.TimestampType) type).shouldAdjustToUTC()
            ? OffsetDateTime.ofInstant(instant, ZoneOffset.UTC)
            : LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
      case UUID:
        return UUID.fromString(value.toString());
      case BINARY:
        return value instanceof ByteBuffer buffer
            ? buffer.duplicate()
            : ByteBuffer.wrap(((org.apache.avro.generic.GenericFixed) value).bytes());
      default:
        throw new IllegalArgumentException(
            "field '" + field.name() + "': no Iceberg value for a " + type);
    }
  }

  private static Instant instant(LogicalType logical, long value) {
    if (logical instanceof LogicalTypes.TimestampMicros
        || logical instanceof LogicalTypes.LocalTimestampMicros) {
      return Instant.ofEpochSecond(
          Math.floorDiv(value, 1_000_000L), Math.floorMod(value, 1_000_000L) * 1000);
    }
    return Instant.ofEpochMilli(value);
  }
}

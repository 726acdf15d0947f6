package dev.sluice.io.iceberg;

import dev.sluice.transforms.core.AvroTypes;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Avro records of a contract as Iceberg's generic records of a table's schema, field by name: a
 * column the contract lacks is null; values take the Java forms Iceberg's writers expect
 * (timestamps as {@code OffsetDateTime} in UTC, decimals as {@code BigDecimal}, dates as {@code
 * LocalDate}).
 */
public final class IcebergRecords implements Serializable {
  private final Schema table;

  public IcebergRecords(Schema table) {
    this.table = table;
  }

  public Record convert(org.apache.avro.generic.GenericRecord avro) {
    GenericRecord record = GenericRecord.create(table);
    org.apache.avro.Schema schema = avro.getSchema();
    for (Types.NestedField column : table.columns()) {
      org.apache.avro.Schema.Field field = schema.getField(column.name());
      if (field != null) {
        record.setField(column.name(), value(column.type(), field, avro.get(field.pos())));
      }
    }
    return record;
  }

  private static Object value(Type type, org.apache.avro.Schema.Field field, Object value) {
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

package dev.sluice.io.jdbc;

import dev.sluice.transforms.core.AvroTypes;
import java.nio.ByteBuffer;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/** How Avro fields map to PostgreSQL columns: binding values and checking column types. */
final class AvroColumns {
  private AvroColumns() {}

  static Schema nonNull(Schema schema) {
    return AvroTypes.nonNull(schema);
  }

  static boolean isOptional(Schema schema) {
    return AvroTypes.isOptional(schema);
  }

  /** Binds a raw Avro value (as parsed: decimals as bytes, timestamps as longs). */
  static void bind(PreparedStatement statement, int index, Schema fieldSchema, Object value)
      throws SQLException {
    Schema type = nonNull(fieldSchema);
    LogicalType logical = type.getLogicalType();
    if (value == null) {
      statement.setNull(index, sqlType(type));
      return;
    }
    if (logical instanceof LogicalTypes.Decimal decimal) {
      statement.setBigDecimal(index, AvroTypes.decimal((ByteBuffer) value, decimal.getScale()));
    } else if (logical instanceof LogicalTypes.TimestampMillis) {
      statement.setObject(
          index, OffsetDateTime.ofInstant(Instant.ofEpochMilli((Long) value), ZoneOffset.UTC));
    } else if (logical instanceof LogicalTypes.TimestampMicros) {
      long micros = (Long) value;
      statement.setObject(
          index,
          OffsetDateTime.ofInstant(
              Instant.ofEpochSecond(
                  Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L),
              ZoneOffset.UTC));
    } else if (logical instanceof LogicalTypes.Date) {
      statement.setObject(index, LocalDate.ofEpochDay((Integer) value));
    } else {
      switch (type.getType()) {
        case LONG -> statement.setLong(index, (Long) value);
        case INT -> statement.setInt(index, (Integer) value);
        case BOOLEAN -> statement.setBoolean(index, (Boolean) value);
        case DOUBLE -> statement.setDouble(index, (Double) value);
        case FLOAT -> statement.setFloat(index, (Float) value);
        case BYTES -> statement.setBytes(index, AvroTypes.bytes((ByteBuffer) value));
        default -> statement.setString(index, value.toString());
      }
    }
  }

  /**
   * Appends a raw Avro value as one field of PostgreSQL's COPY CSV format: null as nothing, text
   * always quoted (so an empty string is not null), decimals plain, timestamps as UTC ISO-8601,
   * bytes as bytea hex.
   */
  static void csv(Schema fieldSchema, Object value, StringBuilder out) {
    if (value == null) {
      return;
    }
    Schema type = nonNull(fieldSchema);
    LogicalType logical = type.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal decimal) {
      out.append(AvroTypes.decimal((ByteBuffer) value, decimal.getScale()).toPlainString());
    } else if (logical instanceof LogicalTypes.TimestampMillis) {
      long millis = (Long) value;
      timestamp(Math.floorDiv(millis, 1000L), (int) Math.floorMod(millis, 1000L) * 1000, out);
    } else if (logical instanceof LogicalTypes.TimestampMicros) {
      long micros = (Long) value;
      timestamp(Math.floorDiv(micros, 1_000_000L), (int) Math.floorMod(micros, 1_000_000L), out);
    } else if (logical instanceof LogicalTypes.Date) {
      out.append(LocalDate.ofEpochDay((Integer) value));
    } else {
      switch (type.getType()) {
        case LONG, INT, BOOLEAN, DOUBLE, FLOAT -> out.append(value);
        case BYTES -> {
          out.append("\\x");
          for (byte b : AvroTypes.bytes((ByteBuffer) value)) {
            out.append(Character.forDigit((b >> 4) & 0xf, 16))
                .append(Character.forDigit(b & 0xf, 16));
          }
        }
        default -> {
          String text = value.toString();
          out.append('"');
          for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
              out.append('"');
            }
            out.append(c);
          }
          out.append('"');
        }
      }
    }
  }

  /**
   * {@code yyyy-MM-dd HH:mm:ss.ffffff+00} (UTC), written digit by digit: the COPY of a batch
   * formats a timestamp per row and column, and {@code Instant.toString} is slow at that.
   */
  static void timestamp(long epochSecond, int micros, StringBuilder out) {
    long days = Math.floorDiv(epochSecond, 86_400L);
    int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
    LocalDate date = LocalDate.ofEpochDay(days);
    int year = date.getYear();
    if (year < 1 || year > 9999) {
      // Outside four-digit years, the general form (PostgreSQL reads it too).
      out.append(Instant.ofEpochSecond(epochSecond, micros * 1000L));
      return;
    }
    digits(year, 4, out);
    out.append('-');
    digits(date.getMonthValue(), 2, out);
    out.append('-');
    digits(date.getDayOfMonth(), 2, out);
    out.append(' ');
    digits(secondOfDay / 3600, 2, out);
    out.append(':');
    digits(secondOfDay / 60 % 60, 2, out);
    out.append(':');
    digits(secondOfDay % 60, 2, out);
    out.append('.');
    digits(micros, 6, out);
    out.append("+00");
  }

  private static final int[] TENS = {1, 10, 100, 1_000, 10_000, 100_000};

  private static void digits(int value, int width, StringBuilder out) {
    for (int divisor = TENS[width - 1]; divisor > 0; divisor /= 10) {
      out.append((char) ('0' + value / divisor % 10));
    }
  }

  private static int sqlType(Schema type) {
    LogicalType logical = type.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal) {
      return Types.NUMERIC;
    }
    if (logical instanceof LogicalTypes.TimestampMillis
        || logical instanceof LogicalTypes.TimestampMicros) {
      return Types.TIMESTAMP_WITH_TIMEZONE;
    }
    if (logical instanceof LogicalTypes.Date) {
      return Types.DATE;
    }
    return switch (type.getType()) {
      case LONG -> Types.BIGINT;
      case INT -> Types.INTEGER;
      case BOOLEAN -> Types.BOOLEAN;
      case DOUBLE -> Types.DOUBLE;
      case FLOAT -> Types.REAL;
      case BYTES -> Types.BINARY;
      default -> Types.VARCHAR;
    };
  }

  /**
   * Whether a column of PostgreSQL type {@code dataType} (information_schema's name) with the given
   * numeric precision and scale can hold every value of the field; null when it can, else what is
   * wanted.
   */
  static String mismatch(Schema fieldSchema, String dataType, Integer precision, Integer scale) {
    Schema type = nonNull(fieldSchema);
    LogicalType logical = type.getLogicalType();
    String column = dataType.toLowerCase(Locale.ROOT);
    if (logical instanceof LogicalTypes.Decimal decimal) {
      if (!column.equals("numeric")) {
        return "numeric(" + decimal.getPrecision() + "," + decimal.getScale() + ")";
      }
      boolean unconstrained = precision == null;
      boolean fits =
          unconstrained
              || (scale != null
                  && scale >= decimal.getScale()
                  && precision - scale >= decimal.getPrecision() - decimal.getScale());
      return fits
          ? null
          : "numeric(" + decimal.getPrecision() + "," + decimal.getScale() + ") or wider";
    }
    if (logical instanceof LogicalTypes.TimestampMillis
        || logical instanceof LogicalTypes.TimestampMicros) {
      return column.equals("timestamp with time zone") ? null : "timestamp with time zone";
    }
    if (logical instanceof LogicalTypes.Date) {
      return column.equals("date") ? null : "date";
    }
    List<String> accepted =
        switch (type.getType()) {
          case LONG -> List.of("bigint", "numeric");
          case INT -> List.of("integer", "bigint", "numeric");
          case BOOLEAN -> List.of("boolean");
          case DOUBLE -> List.of("double precision", "numeric");
          case FLOAT -> List.of("real", "double precision", "numeric");
          case BYTES -> List.of("bytea");
          case STRING, ENUM -> List.of("text", "character varying", "character", "user-defined");
          default -> List.of();
        };
    return accepted.contains(column) ? null : String.join(" or ", accepted);
  }
}

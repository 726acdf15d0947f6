package dev.sluice.transforms.parse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Locale;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * Converts text cells (CSV) and JSON values into Avro values of a field's schema, strictly: nothing
 * is truncated, rounded or coerced silently. Every failure is a {@link RecordException} with reason
 * {@code schema} whose message names the field and the value.
 *
 * <p>Values are Avro's raw representation (decimals as bytes, timestamps as longs), so records
 * written with them need no logical-type conversions.
 */
final class AvroValues {
  private static final int MAX_VALUE_IN_MESSAGE = 64;

  private AvroValues() {}

  /** Checks that every field of the schema is of a type this converter supports. */
  static void checkSupported(Schema record) {
    for (Schema.Field field : record.getFields()) {
      Schema type = nonNull(field.schema());
      switch (type.getType()) {
        case STRING, BOOLEAN, INT, LONG, FLOAT, DOUBLE, ENUM, BYTES -> {}
        default ->
            throw new IllegalArgumentException(
                "Field '"
                    + field.name()
                    + "' of schema "
                    + record.getName()
                    + " has type "
                    + field.schema()
                    + ", which flat CSV/JSON parsing does not support");
      }
    }
  }

  static Schema nonNull(Schema schema) {
    Schema type = AvroTypes.nonNull(schema);
    if (type.getType() == Schema.Type.UNION) {
      throw new IllegalArgumentException(
          "Only unions of null and one type are supported: " + schema);
    }
    return type;
  }

  static boolean isOptional(Schema schema) {
    return AvroTypes.isOptional(schema);
  }

  /** The value for a missing or null input: the field's default, or a failure if it is required. */
  static @Nullable Object missing(Schema.Field field) throws RecordException {
    if (isOptional(field.schema())) {
      return null;
    }
    if (field.hasDefaultValue()) {
      return org.apache.avro.generic.GenericData.get().getDefaultValue(field);
    }
    throw schemaError(field, "is required but missing");
  }

  /** Converts a CSV cell; {@code null} means an empty cell. */
  static @Nullable Object fromText(Schema.Field field, @Nullable String text)
      throws RecordException {
    if (text == null) {
      return missing(field);
    }
    Schema type = nonNull(field.schema());
    LogicalType logical = type.getLogicalType();
    try {
      if (logical instanceof LogicalTypes.Decimal decimal) {
        return decimal(field, decimal, parseDecimal(field, text));
      }
      if (isTimestamp(logical)) {
        return timestamp(field, logical, parseInstant(field, text));
      }
      if (logical instanceof LogicalTypes.Date) {
        return (int) LocalDate.parse(text).toEpochDay();
      }
      return switch (type.getType()) {
        case STRING -> {
          if (logical != null && "uuid".equals(logical.getName())) {
            UUID.fromString(text);
          }
          yield checkUnicode(field, text);
        }
        case LONG -> Long.parseLong(text.strip());
        case INT -> Integer.parseInt(text.strip());
        case BOOLEAN -> parseBoolean(field, text);
        case DOUBLE -> finite(field, Double.parseDouble(text.strip()), text);
        case FLOAT -> finite(field, Float.parseFloat(text.strip()), text);
        case ENUM -> enumSymbol(field, type, text);
        case BYTES -> ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        default -> throw schemaError(field, "has an unsupported type " + type);
      };
    } catch (NumberFormatException | DateTimeException e) {
      throw schemaError(field, "expected " + describe(type) + " but was '" + shorten(text) + "'");
    } catch (IllegalArgumentException e) {
      throw schemaError(field, "expected " + describe(type) + " but was '" + shorten(text) + "'");
    }
  }

  /** Converts a JSON value; {@code null} means the key is absent. */
  static @Nullable Object fromJson(Schema.Field field, @Nullable JsonNode node)
      throws RecordException {
    if (node == null || node.isNull()) {
      return missing(field);
    }
    Schema type = nonNull(field.schema());
    LogicalType logical = type.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal decimal) {
      BigDecimal value;
      if (node.isNumber() && !Double.isFinite(node.doubleValue()) && !node.isBigDecimal()) {
        // Jackson reads a literal beyond double range (1e999999999) as an infinite double.
        throw schemaError(
            field,
            "value "
                + shorten(node.asText())
                + " (a number beyond double range) overflows decimal("
                + decimal.getPrecision()
                + ","
                + decimal.getScale()
                + ")");
      }
      if (node.isNumber()) {
        value = node.decimalValue();
      } else if (node.isTextual()) {
        value = parseDecimal(field, node.asText());
      } else {
        throw wrongType(field, type, node);
      }
      return decimal(field, decimal, value);
    }
    if (isTimestamp(logical)) {
      // ISO-8601 text only: a bare number says nothing of its unit (seconds? millis? micros?).
      if (node.isTextual()) {
        return timestamp(field, logical, parseInstant(field, node.asText()));
      }
      throw schemaError(
          field,
          "expected an ISO-8601 timestamp with offset (e.g. 2026-11-25T10:15:30Z) but was "
              + node.getNodeType().name().toLowerCase(Locale.ROOT)
              + " "
              + shorten(node.toString()));
    }
    if (logical instanceof LogicalTypes.Date) {
      if (!node.isTextual()) {
        throw wrongType(field, type, node);
      }
      return fromText(field, node.asText());
    }
    switch (type.getType()) {
      case STRING:
        if (!node.isTextual()) {
          throw wrongType(field, type, node);
        }
        return fromText(field, node.asText());
      case ENUM:
        if (!node.isTextual()) {
          throw wrongType(field, type, node);
        }
        return enumSymbol(field, type, node.asText());
      case LONG:
        if (!node.isIntegralNumber()) {
          throw wrongType(field, type, node);
        }
        if (!node.canConvertToLong()) {
          throw schemaError(field, "value " + shorten(node.toString()) + " overflows a long");
        }
        return node.longValue();
      case INT:
        if (!node.isIntegralNumber()) {
          throw wrongType(field, type, node);
        }
        if (!node.canConvertToInt()) {
          throw schemaError(field, "value " + shorten(node.toString()) + " overflows an int");
        }
        return node.intValue();
      case BOOLEAN:
        if (!node.isBoolean()) {
          throw wrongType(field, type, node);
        }
        return node.booleanValue();
      case DOUBLE:
        if (!node.isNumber()) {
          throw wrongType(field, type, node);
        }
        return finite(field, node.doubleValue(), node.toString());
      case FLOAT:
        if (!node.isNumber()) {
          throw wrongType(field, type, node);
        }
        return finite(field, node.floatValue(), node.toString());
      case BYTES:
        if (!node.isTextual()) {
          throw wrongType(field, type, node);
        }
        try {
          return ByteBuffer.wrap(Base64.getDecoder().decode(node.asText()));
        } catch (IllegalArgumentException e) {
          throw schemaError(
              field, "expected base64 bytes but was '" + shorten(node.asText()) + "'");
        }
      default:
        throw schemaError(field, "has an unsupported type " + type);
    }
  }

  /**
   * Checks the decimals of a record decoded from Avro binary: bytes may hold a value wider than the
   * declared precision, which a table column would then reject or round.
   */
  static void checkDecimals(GenericRecord record) throws RecordException {
    for (Schema.Field field : record.getSchema().getFields()) {
      Schema type = nonNull(field.schema());
      Object value = record.get(field.pos());
      if (value instanceof ByteBuffer bytes
          && type.getLogicalType() instanceof LogicalTypes.Decimal decimal) {
        BigDecimal number = AvroTypes.decimal(bytes, decimal.getScale());
        if (number.precision() > decimal.getPrecision()) {
          throw schemaError(
              field,
              "value "
                  + shorten(AvroTypes.text(number))
                  + " overflows decimal("
                  + decimal.getPrecision()
                  + ","
                  + decimal.getScale()
                  + ")");
        }
      }
    }
  }

  private static boolean isTimestamp(@Nullable LogicalType logical) {
    return logical instanceof LogicalTypes.TimestampMillis
        || logical instanceof LogicalTypes.TimestampMicros;
  }

  private static BigDecimal parseDecimal(Schema.Field field, String text) throws RecordException {
    try {
      return new BigDecimal(text.strip());
    } catch (NumberFormatException e) {
      throw schemaError(field, "expected a decimal but was '" + shorten(text) + "'");
    }
  }

  /**
   * Encodes a decimal at the field's scale, refusing to round or to exceed the precision. The
   * checks look at the number's digits and exponent before anything is scaled, so a value such as
   * {@code 1e999999999} (a few bytes that would expand to a billion digits) costs no more than any
   * other.
   */
  private static ByteBuffer decimal(Schema.Field field, LogicalTypes.Decimal type, BigDecimal value)
      throws RecordException {
    if (value.signum() == 0) {
      return ByteBuffer.wrap(new byte[] {0});
    }
    BigDecimal exact = value.stripTrailingZeros();
    // Digits before the point: precision - scale, computed in long so that no exponent overflows.
    long integerDigits = (long) exact.precision() - exact.scale();
    if (integerDigits > type.getPrecision() - type.getScale()) {
      throw schemaError(
          field,
          "value "
              + shorten(AvroTypes.text(value))
              + " overflows decimal("
              + type.getPrecision()
              + ","
              + type.getScale()
              + ")");
    }
    if (exact.scale() > type.getScale()) {
      throw schemaError(
          field,
          "value "
              + shorten(AvroTypes.text(value))
              + " has more than "
              + type.getScale()
              + " decimal places; decimal("
              + type.getPrecision()
              + ","
              + type.getScale()
              + ") would round it");
    }
    BigInteger unscaled =
        exact.setScale(type.getScale(), java.math.RoundingMode.UNNECESSARY).unscaledValue();
    return ByteBuffer.wrap(unscaled.toByteArray());
  }

  /** A double that is a number: NaN and the infinities (and overflows to them) are refused. */
  private static double finite(Schema.Field field, double value, String text)
      throws RecordException {
    if (!Double.isFinite(value)) {
      throw schemaError(field, "expected a finite number but was '" + shorten(text) + "'");
    }
    return value;
  }

  private static float finite(Schema.Field field, float value, String text) throws RecordException {
    if (!Float.isFinite(value)) {
      throw schemaError(
          field, "expected a finite number within float range but was '" + shorten(text) + "'");
    }
    return value;
  }

  /**
   * Text as it will be stored: a lone UTF-16 surrogate (a JSON escape such as {@code \\ud800} with
   * no partner) is no character and would be written as {@code ?}, so it is refused.
   */
  static String checkUnicode(Schema.Field field, String text) throws RecordException {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw schemaError(
            field,
            String.format(
                "holds an unpaired UTF-16 surrogate \\u%04x at character %d, which is no Unicode"
                    + " character",
                (int) c, i));
      }
    }
    return text;
  }

  private static Instant parseInstant(Schema.Field field, String text) throws RecordException {
    try {
      return IsoInstants.parse(text.strip());
    } catch (DateTimeParseException e) {
      throw schemaError(
          field,
          "expected an ISO-8601 timestamp with offset (e.g. 2026-11-25T10:15:30Z) but was '"
              + shorten(text)
              + "'");
    }
  }

  private static long timestamp(Schema.Field field, LogicalType logical, Instant instant)
      throws RecordException {
    try {
      return timestampUnits(field, logical, instant);
    } catch (ArithmeticException e) {
      throw schemaError(
          field, "timestamp " + instant + " is out of range for " + logical.getName());
    }
  }

  private static long timestampUnits(Schema.Field field, LogicalType logical, Instant instant)
      throws RecordException {
    if (logical instanceof LogicalTypes.TimestampMillis) {
      if (instant.getNano() % 1_000_000 != 0) {
        throw schemaError(
            field,
            "timestamp "
                + instant
                + " has sub-millisecond precision; timestamp-millis would cut it");
      }
      return instant.toEpochMilli();
    }
    if (instant.getNano() % 1_000 != 0) {
      throw schemaError(
          field,
          "timestamp " + instant + " has sub-microsecond precision; timestamp-micros would cut it");
    }
    return Math.addExact(
        Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
  }

  private static boolean parseBoolean(Schema.Field field, String text) throws RecordException {
    return switch (text.strip().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw schemaError(field, "expected true or false but was '" + shorten(text) + "'");
    };
  }

  private static org.apache.avro.generic.GenericData.EnumSymbol enumSymbol(
      Schema.Field field, Schema type, String text) throws RecordException {
    if (!type.hasEnumSymbol(text)) {
      throw schemaError(
          field,
          "'" + shorten(text) + "' is not one of " + String.join(", ", type.getEnumSymbols()));
    }
    return new org.apache.avro.generic.GenericData.EnumSymbol(type, text);
  }

  private static String describe(Schema type) {
    LogicalType logical = type.getLogicalType();
    if (logical != null) {
      return logical.getName();
    }
    return switch (type.getType()) {
      case LONG -> "a long";
      case INT -> "an int";
      case BOOLEAN -> "a boolean";
      case DOUBLE, FLOAT -> "a number";
      case ENUM -> "one of " + type.getEnumSymbols();
      default -> "a " + type.getType().getName();
    };
  }

  private static RecordException wrongType(Schema.Field field, Schema type, JsonNode node) {
    return schemaError(
        field,
        "expected "
            + describe(type)
            + " but was "
            + node.getNodeType().name().toLowerCase(Locale.ROOT)
            + " "
            + shorten(node.toString()));
  }

  static RecordException schemaError(Schema.Field field, String problem) {
    return new RecordException(FailureReason.SCHEMA, "field '" + field.name() + "' " + problem);
  }

  static String shorten(String value) {
    return value.length() <= MAX_VALUE_IN_MESSAGE
        ? value
        : value.substring(0, MAX_VALUE_IN_MESSAGE) + "…";
  }
}

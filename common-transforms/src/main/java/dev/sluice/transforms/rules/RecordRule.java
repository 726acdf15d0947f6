package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.AvroTypes;
import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * One record rule of a rules file: a check of each record, with a severity. At {@code error} a
 * failing record is dead-lettered with the rule's name; at {@code warn} it is counted and kept.
 * With {@code mostly}, single failures are tolerated (counted, kept) and the fraction is judged for
 * the whole dataset.
 */
public final class RecordRule implements Serializable {
  /** What a rule does when a record fails it. */
  public enum Severity {
    ERROR,
    WARN
  }

  /** The check of one record's values. */
  interface Check extends Serializable {
    /** Null when the record passes; otherwise what is wrong, naming the value. */
    @Nullable
    String failure(GenericRecord record);
  }

  private final String name;
  private final String kind;
  private final Severity severity;
  private final @Nullable Double mostly;
  private final Check check;

  RecordRule(String name, String kind, Severity severity, @Nullable Double mostly, Check check) {
    this.name = name;
    this.kind = kind;
    this.severity = severity;
    this.mostly = mostly;
    this.check = check;
  }

  /** The name in dead letters, counters and reports, e.g. {@code range(amount)}. */
  public String name() {
    return name;
  }

  public String kind() {
    return kind;
  }

  public Severity severity() {
    return severity;
  }

  public @Nullable Double mostly() {
    return mostly;
  }

  /** Whether a failing record is dead-lettered (error severity without {@code mostly}). */
  public boolean rejects() {
    return severity == Severity.ERROR && mostly == null;
  }

  public @Nullable String failure(GenericRecord record) {
    return check.failure(record);
  }

  // ---- the checks ----

  static Check notNull(String field) {
    return r -> r.get(field) == null ? field + " is null" : null;
  }

  static Check range(
      Schema schema,
      String field,
      @Nullable BigDecimal min,
      @Nullable BigDecimal max,
      boolean minInclusive,
      boolean maxInclusive) {
    Schema type = nonNull(schema.getField(field).schema());
    return r -> {
      if (notFinite(r.get(field))) {
        return field + " = " + r.get(field) + " is not a finite number";
      }
      BigDecimal value = number(type, r.get(field));
      if (value == null) {
        return null;
      }
      if (min != null && (minInclusive ? value.compareTo(min) < 0 : value.compareTo(min) <= 0)) {
        return field
            + " = "
            + AvroTypes.text(value)
            + " is below "
            + (minInclusive ? "" : "or at ")
            + AvroTypes.text(min);
      }
      if (max != null && (maxInclusive ? value.compareTo(max) > 0 : value.compareTo(max) >= 0)) {
        return field
            + " = "
            + AvroTypes.text(value)
            + " is above "
            + (maxInclusive ? "" : "or at ")
            + AvroTypes.text(max);
      }
      return null;
    };
  }

  static Check regex(String field, String pattern) {
    Pattern compiled = Pattern.compile(pattern);
    return r -> {
      Object value = r.get(field);
      return value == null || compiled.matcher(value.toString()).matches()
          ? null
          : field + " = '" + value + "' does not match /" + pattern + "/";
    };
  }

  static Check acceptedValues(String field, List<String> values) {
    List<String> accepted = List.copyOf(values);
    return r -> {
      Object value = r.get(field);
      return value == null || accepted.contains(value.toString())
          ? null
          : field + " = '" + value + "' is not one of " + accepted;
    };
  }

  static Check maxLength(String field, int max) {
    return r -> {
      Object value = r.get(field);
      int length =
          value == null ? 0 : value.toString().codePointCount(0, value.toString().length());
      return length <= max ? null : field + " has " + length + " characters, more than " + max;
    };
  }

  static Check compare(Schema schema, String left, String op, String right) {
    Schema leftType = nonNull(schema.getField(left).schema());
    Schema rightType = nonNull(schema.getField(right).schema());
    return r -> {
      for (String side : List.of(left, right)) {
        if (notFinite(r.get(side))) {
          return side + " = " + r.get(side) + " is not a finite number";
        }
      }
      BigDecimal a = number(leftType, r.get(left));
      BigDecimal b = number(rightType, r.get(right));
      if (a == null || b == null) {
        return null;
      }
      int c = a.compareTo(b);
      boolean ok =
          switch (op) {
            case "<" -> c < 0;
            case "<=" -> c <= 0;
            case ">" -> c > 0;
            case ">=" -> c >= 0;
            case "==" -> c == 0;
            default -> c != 0;
          };
      return ok
          ? null
          : left
              + " ("
              + AvroTypes.text(a)
              + ") "
              + op
              + " "
              + right
              + " ("
              + AvroTypes.text(b)
              + ") is false";
    };
  }

  static Schema nonNull(Schema schema) {
    return AvroTypes.nonNull(schema);
  }

  /** NaN or an infinity, which no range holds and no comparison orders. */
  static boolean notFinite(@Nullable Object value) {
    return (value instanceof Double d && !Double.isFinite(d))
        || (value instanceof Float f && !Float.isFinite(f));
  }

  /** A comparable number for numeric, decimal and timestamp fields (timestamps as epoch units). */
  static @Nullable BigDecimal number(Schema type, @Nullable Object value) {
    if (value == null) {
      return null;
    }
    if (type.getLogicalType() instanceof LogicalTypes.Decimal decimal) {
      return AvroTypes.decimal((ByteBuffer) value, decimal.getScale());
    }
    if (value instanceof Number n) {
      return value instanceof Double || value instanceof Float
          ? BigDecimal.valueOf(n.doubleValue())
          : BigDecimal.valueOf(n.longValue());
    }
    return null;
  }

  static boolean isComparable(Schema schema) {
    Schema type = nonNull(schema);
    return type.getLogicalType() instanceof LogicalTypes.Decimal
        || switch (type.getType()) {
          case INT, LONG, FLOAT, DOUBLE -> true;
          default -> false;
        };
  }
}

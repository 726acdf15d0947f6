package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.AvroTypes;
import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.List;
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

  /** The check of one record's values: one class per rule kind (see {@link RecordRuleKind}). */
  public interface Check extends Serializable {
    /** Null when the record passes; otherwise what is wrong, naming the value. */
    @Nullable
    String failure(GenericRecord record);

    /** What the rule checks, for its default name, e.g. {@code amount} or {@code a<b}. */
    String subject();
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

  public Check check() {
    return check;
  }

  /** The verdict of a rule with {@code mostly}: the share of records passing it, over the run. */
  public Verdict judge(Figures figures) {
    long evaluated = figures.counter(ApplyRules.COUNTER_PREFIX + name + ".evaluated");
    long failed = figures.counter(ApplyRules.COUNTER_PREFIX + name + ".failed");
    double passing = evaluated == 0 ? 1.0 : 1.0 - (double) failed / evaluated;
    return new Verdict(
        name,
        severity,
        evaluated,
        failed,
        "passing " + Verdict.fraction(passing),
        "mostly " + Verdict.fraction(mostly),
        passing >= mostly,
        List.of());
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

package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.AvroTypes;
import java.math.BigDecimal;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * {@code range}: a number, decimal or timestamp {@code field} is within {@code [min, max]} (either
 * may be open; {@code inclusive: false} excludes the bounds). NaN and infinities fail.
 */
public record Range(
    String field,
    Schema type,
    @Nullable BigDecimal min,
    @Nullable BigDecimal max,
    boolean inclusive)
    implements RecordRule.Check {
  /** Reads {@code {rule: range, field: x, min: 0, max: 10, inclusive: true}}. */
  public static final class Kind implements RecordRuleKind {
    @Override
    public String name() {
      return "range";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "min", "max", "inclusive");
    }

    @Override
    public RecordRule.Check parse(RuleSpec spec) {
      String field = spec.comparableField("field");
      BigDecimal min = spec.optionalDecimal("min");
      BigDecimal max = spec.optionalDecimal("max");
      if (min == null && max == null) {
        throw spec.error("range needs min, max or both");
      }
      if (min != null && max != null && min.compareTo(max) > 0) {
        throw spec.error("range has min " + min + " above max " + max);
      }
      return new Range(field, spec.typeOf(field), min, max, spec.bool("inclusive", true));
    }
  }

  @Override
  public String subject() {
    return field;
  }

  @Override
  public @Nullable String failure(GenericRecord record) {
    if (RecordRule.notFinite(record.get(field))) {
      return field + " = " + record.get(field) + " is not a finite number";
    }
    BigDecimal value = RecordRule.number(type, record.get(field));
    if (value == null) {
      return null;
    }
    if (min != null && (inclusive ? value.compareTo(min) < 0 : value.compareTo(min) <= 0)) {
      return field
          + " = "
          + AvroTypes.text(value)
          + " is below "
          + (inclusive ? "" : "or at ")
          + AvroTypes.text(min);
    }
    if (max != null && (inclusive ? value.compareTo(max) > 0 : value.compareTo(max) >= 0)) {
      return field
          + " = "
          + AvroTypes.text(value)
          + " is above "
          + (inclusive ? "" : "or at ")
          + AvroTypes.text(max);
    }
    return null;
  }
}

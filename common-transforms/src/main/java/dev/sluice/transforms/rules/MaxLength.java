package dev.sluice.transforms.rules;

import java.math.BigDecimal;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;

/** {@code max_length}: {@code field}'s text has at most {@code max} characters (code points). */
public record MaxLength(String field, int max) implements RecordRule.Check {
  /** Reads {@code {rule: max_length, field: x, max: 20}}. */
  public static final class Kind implements RecordRuleKind {
    @Override
    public String name() {
      return "max_length";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "max");
    }

    @Override
    public RecordRule.Check parse(RuleSpec spec) {
      String field = spec.field("field");
      BigDecimal max = spec.decimal("max");
      if (max.signum() < 0
          || max.stripTrailingZeros().scale() > 0
          || max.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
        throw spec.error(
            "max",
            "max must be a whole number from 0 to " + Integer.MAX_VALUE + ", but was " + max);
      }
      return new MaxLength(field, max.intValueExact());
    }
  }

  @Override
  public String subject() {
    return field;
  }

  @Override
  public @Nullable String failure(GenericRecord record) {
    Object value = record.get(field);
    int length = value == null ? 0 : value.toString().codePointCount(0, value.toString().length());
    return length <= max ? null : field + " has " + length + " characters, more than " + max;
  }
}

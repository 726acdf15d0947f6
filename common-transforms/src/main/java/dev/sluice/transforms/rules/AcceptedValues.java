package dev.sluice.transforms.rules;

import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;

/** {@code accepted_values}: a non-null {@code field}'s text is one of {@code values}. */
public record AcceptedValues(String field, List<String> values) implements RecordRule.Check {
  public AcceptedValues {
    values = List.copyOf(values);
  }

  /** Reads {@code {rule: accepted_values, field: x, values: [a, b]}}. */
  public static final class Kind implements RecordRuleKind {
    @Override
    public String name() {
      return "accepted_values";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "values");
    }

    @Override
    public RecordRule.Check parse(RuleSpec spec) {
      return new AcceptedValues(spec.field("field"), spec.values("values"));
    }
  }

  @Override
  public String subject() {
    return field;
  }

  @Override
  public @Nullable String failure(GenericRecord record) {
    Object value = record.get(field);
    return value == null || values.contains(value.toString())
        ? null
        : field + " = '" + value + "' is not one of " + values;
  }
}

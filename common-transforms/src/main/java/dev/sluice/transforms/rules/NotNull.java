package dev.sluice.transforms.rules;

import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;

/** {@code not_null}: {@code field} has a value. */
public record NotNull(String field) implements RecordRule.Check {
  /** Reads {@code {rule: not_null, field: x}}. */
  public static final class Kind implements RecordRuleKind {
    @Override
    public String name() {
      return "not_null";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field");
    }

    @Override
    public RecordRule.Check parse(RuleSpec spec) {
      return new NotNull(spec.field("field"));
    }
  }

  @Override
  public String subject() {
    return field;
  }

  @Override
  public @Nullable String failure(GenericRecord record) {
    return record.get(field) == null ? field + " is null" : null;
  }
}

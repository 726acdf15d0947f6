package dev.sluice.transforms.rules;

import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;

/** {@code regex}: a non-null {@code field}'s text matches {@code pattern} as a whole. */
public record Regex(String field, Pattern pattern) implements RecordRule.Check {
  /** Reads {@code {rule: regex, field: x, pattern: '[A-Z]{3}'}}. */
  public static final class Kind implements RecordRuleKind {
    @Override
    public String name() {
      return "regex";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "pattern");
    }

    @Override
    public RecordRule.Check parse(RuleSpec spec) {
      String field = spec.field("field");
      String pattern = spec.required("pattern");
      try {
        return new Regex(field, Pattern.compile(pattern));
      } catch (PatternSyntaxException e) {
        throw spec.error(
            "pattern", "pattern is not a valid regular expression: " + e.getDescription());
      }
    }
  }

  @Override
  public String subject() {
    return field;
  }

  @Override
  public @Nullable String failure(GenericRecord record) {
    Object value = record.get(field);
    return value == null || pattern.matcher(value.toString()).matches()
        ? null
        : field + " = '" + value + "' does not match /" + pattern.pattern() + "/";
  }
}

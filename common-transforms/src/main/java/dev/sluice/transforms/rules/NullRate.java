package dev.sluice.transforms.rules;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.avro.generic.GenericRecord;

/** {@code null_rate}: the share of records whose {@code field} is null is at most {@code max}. */
public record NullRate(String name, RecordRule.Severity severity, String field, double max)
    implements DatasetRule {
  /** Reads {@code {rule: null_rate, field: note, max: 0.5}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "null_rate";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "max");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      String field = spec.field("field");
      return new NullRate(spec.name(field), severity, field, spec.fraction("max"));
    }
  }

  @Override
  public List<String> fields() {
    return List.of(field);
  }

  @Override
  public String kind() {
    return "null_rate";
  }

  @Override
  public void measure(GenericRecord record, Measures measures) {
    countNull(record, field, measures);
  }

  /** Counts a null {@code field} (null_rate and null_rate_change share the counter). */
  static void countNull(GenericRecord record, String field, Measures measures) {
    if (record.get(field) == null) {
      measures.count(DatasetRule.nullsCounter(field));
    }
  }

  @Override
  public Verdict judge(Figures figures) {
    long rows = figures.rows();
    long nulls = figures.counter(DatasetRule.nullsCounter(field));
    double rate = rows == 0 ? 0.0 : (double) nulls / rows;
    return new Verdict(
        name,
        severity,
        rows,
        nulls,
        Verdict.fraction(rate),
        "<= " + Verdict.fraction(max),
        rate <= max,
        List.of());
  }

  @Override
  public void measureWindow(GenericRecord record, BiConsumer<String, Long> out) {
    if (record.get(field) == null) {
      out.accept("nulls", 1L);
    }
  }

  @Override
  public Observed judgeWindow(long rows, Map<String, Long> measures, long now) {
    long nulls = measures.getOrDefault("nulls", 0L);
    return new Observed(nulls * 1000 / rows, (double) nulls / rows <= max);
  }
}

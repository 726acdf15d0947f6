package dev.sluice.transforms.rules;

import java.util.List;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;

/**
 * {@code null_rate_change}: the share of nulls in {@code field}, compared with its mean over the
 * last {@code overLast} runs of the history: at most {@code maxIncrease} higher (in absolute terms,
 * e.g. 0.1 = ten points). Not judged before {@link DatasetRule#MIN_HISTORY} such runs exist.
 */
public record NullRateChange(
    String name, RecordRule.Severity severity, String field, double maxIncrease, int overLast)
    implements DatasetRule {
  /** Reads {@code {rule: null_rate_change, field: note, max_increase: 0.1, over_last: 7}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "null_rate_change";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "max_increase", "over_last");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      String field = spec.field("field");
      return new NullRateChange(
          spec.name(field),
          severity,
          field,
          spec.fraction("max_increase"),
          Baselines.overLast(spec));
    }
  }

  @Override
  public List<String> fields() {
    return List.of(field);
  }

  @Override
  public String kind() {
    return "null_rate_change";
  }

  @Override
  public boolean needsHistory() {
    return true;
  }

  @Override
  public void measure(GenericRecord record, Measures measures) {
    NullRate.countNull(record, field, measures);
  }

  @Override
  public Verdict judge(Figures figures) {
    long rows = figures.rows();
    String counter = DatasetRule.nullsCounter(field);
    long nulls = figures.counter(counter);
    double rate = rows == 0 ? 0.0 : (double) nulls / rows;
    List<? extends Figures.Run> past = Baselines.last(figures, overLast);
    if (past == null) {
      return Baselines.notJudged(this, figures, rows, nulls, Verdict.fraction(rate), overLast);
    }
    double mean =
        past.stream()
            .mapToDouble(
                e ->
                    e.count(DatasetRule.ROWS) == 0
                        ? 0.0
                        : (double) e.count(counter) / e.count(DatasetRule.ROWS))
            .average()
            .orElse(0);
    return new Verdict(
        name,
        severity,
        rows,
        nulls,
        Verdict.fraction(rate),
        "<= "
            + Verdict.fraction(mean + maxIncrease)
            + " (mean "
            + Verdict.fraction(mean)
            + " of the last "
            + past.size()
            + " run(s) + max_increase "
            + Verdict.fraction(maxIncrease)
            + ")",
        rate <= mean + maxIncrease,
        List.of());
  }
}

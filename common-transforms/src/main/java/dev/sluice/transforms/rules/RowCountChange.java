package dev.sluice.transforms.rules;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code row_count_change}: the records judged, compared with the mean of the last {@code overLast}
 * runs in the run history whose gate was open: at most {@code maxDrop} fewer (a fraction) and at
 * most {@code maxRise} times as many. Not judged (passes, saying so) before {@link
 * DatasetRule#MIN_HISTORY} such runs exist.
 */
public record RowCountChange(
    String name, RecordRule.Severity severity, double maxDrop, double maxRise, int overLast)
    implements DatasetRule {
  /** Reads {@code {rule: row_count_change, max_drop: 0.5, max_rise: 3, over_last: 7}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "row_count_change";
    }

    @Override
    public Set<String> keys() {
      return Set.of("max_drop", "max_rise", "over_last");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      if (!spec.has("max_drop") && !spec.has("max_rise")) {
        throw spec.error("row_count_change needs max_drop, max_rise or both");
      }
      double maxDrop = spec.has("max_drop") ? spec.fraction("max_drop") : 1.0;
      double maxRise =
          spec.has("max_rise") ? spec.decimal("max_rise").doubleValue() : Double.MAX_VALUE;
      if (maxRise < 1) {
        throw spec.error("max_rise", "max_rise must be a factor of at least 1, but was " + maxRise);
      }
      return new RowCountChange(
          spec.name(""), severity, maxDrop, maxRise, Baselines.overLast(spec));
    }
  }

  @Override
  public List<String> fields() {
    return List.of();
  }

  @Override
  public String kind() {
    return "row_count_change";
  }

  @Override
  public boolean needsHistory() {
    return true;
  }

  @Override
  public Verdict judge(Figures figures) {
    long rows = figures.rows();
    List<? extends Figures.Run> past = Baselines.last(figures, overLast);
    if (past == null) {
      return Baselines.notJudged(this, figures, rows, 0, rows + " rows", overLast);
    }
    double mean = past.stream().mapToLong(e -> e.count(DatasetRule.ROWS)).average().orElse(0);
    double low = mean * (1 - maxDrop);
    double high = mean * maxRise;
    boolean ok = rows >= low && rows <= high;
    return new Verdict(
        name,
        severity,
        rows,
        ok ? 0 : 1,
        rows + " rows (" + Verdict.percent(mean == 0 ? 0 : rows / mean - 1) + " against the mean)",
        String.format(
            Locale.ROOT,
            "between %.1f and %.1f rows (mean %.1f of the last %d run(s), max_drop %s, max_rise %s)",
            low,
            high,
            mean,
            past.size(),
            Verdict.fraction(maxDrop),
            maxRise == Double.MAX_VALUE ? "none" : String.valueOf(maxRise)),
        ok,
        List.of());
  }
}

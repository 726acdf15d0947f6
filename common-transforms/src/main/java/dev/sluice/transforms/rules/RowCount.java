package dev.sluice.transforms.rules;

import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;

/** {@code row_count}: the number of records is within {@code [min, max]} (either may be open). */
public record RowCount(
    String name, RecordRule.Severity severity, @Nullable Double min, @Nullable Double max)
    implements DatasetRule {
  /** Reads {@code {rule: row_count, min: 1, max: 1000}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "row_count";
    }

    @Override
    public Set<String> keys() {
      return Set.of("min", "max");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      if (!spec.has("min") && !spec.has("max")) {
        throw spec.error("row_count needs min, max or both");
      }
      return new RowCount(
          spec.name(""),
          severity,
          spec.has("min") ? spec.decimal("min").doubleValue() : null,
          spec.has("max") ? spec.decimal("max").doubleValue() : null);
    }
  }

  @Override
  public List<String> fields() {
    return List.of();
  }

  @Override
  public String kind() {
    return "row_count";
  }

  private boolean holds(long rows) {
    return (min == null || rows >= min) && (max == null || rows <= max);
  }

  @Override
  public Verdict judge(Figures figures) {
    long rows = figures.rows();
    boolean ok = holds(rows);
    return new Verdict(
        name,
        severity,
        rows,
        ok ? 0 : 1,
        String.valueOf(rows),
        Verdict.bounds(min, max),
        ok,
        List.of());
  }

  @Override
  public Observed judgeWindow(long rows, Map<String, Long> measures, long now) {
    return new Observed(rows, holds(rows));
  }
}

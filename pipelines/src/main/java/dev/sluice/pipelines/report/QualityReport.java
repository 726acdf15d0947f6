package dev.sluice.pipelines.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.rules.ApplyRules;
import dev.sluice.transforms.rules.DatasetRule;
import dev.sluice.transforms.rules.RecordRule;
import dev.sluice.transforms.rules.RulesFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The data-quality verdict of a bounded run: each dataset rule, and each record rule with {@code
 * mostly}, judged from the run's metrics, with its observed value, threshold, samples and pass or
 * fail. An {@code error} rule that fails closes the write-audit-publish gate.
 */
public final class QualityReport {
  /**
   * One judged rule.
   *
   * @param rule the rule's name
   * @param severity error or warn
   * @param evaluated records judged
   * @param failed records failing (or duplicates, nulls...)
   * @param observed the measured value, as text
   * @param threshold what was required, as text
   * @param passed whether the rule holds
   * @param samples a few failing keys, when known
   */
  public record Result(
      String rule,
      String severity,
      long evaluated,
      long failed,
      String observed,
      String threshold,
      boolean passed,
      List<String> samples) {}

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final List<Result> results;

  private QualityReport(List<Result> results) {
    this.results = List.copyOf(results);
  }

  public List<Result> results() {
    return results;
  }

  /** The error rules that failed: the gate is closed when there is any. */
  public List<Result> failedErrors() {
    return results.stream().filter(r -> !r.passed() && r.severity().equals("error")).toList();
  }

  public static QualityReport evaluate(
      RulesFile rules, MetricResults metrics, String namespace, Instant now) {
    return evaluate(rules, metrics, namespace, now, null);
  }

  /**
   * Judges the rules after a bounded run; {@code history} holds the pipeline's earlier runs, oldest
   * first, for the change rules (null: they are not judged, e.g. in a replay).
   */
  public static QualityReport evaluate(
      RulesFile rules,
      MetricResults metrics,
      String namespace,
      Instant now,
      @Nullable List<RunHistory.Entry> history) {
    PipelineMetrics m = new PipelineMetrics(metrics, namespace);
    List<Result> results = new ArrayList<>();
    long rows = m.counter(DatasetRule.ROWS);
    for (RecordRule rule : rules.recordRules()) {
      if (rule.mostly() == null) {
        continue;
      }
      long evaluated = m.counter(ApplyRules.COUNTER_PREFIX + rule.name() + ".evaluated");
      long failed = m.counter(ApplyRules.COUNTER_PREFIX + rule.name() + ".failed");
      double passing = evaluated == 0 ? 1.0 : 1.0 - (double) failed / evaluated;
      results.add(
          new Result(
              rule.name(),
              severity(rule.severity()),
              evaluated,
              failed,
              "passing " + fraction(passing),
              "mostly " + fraction(rule.mostly()),
              passing >= rule.mostly(),
              List.of()));
    }
    for (DatasetRule rule : rules.datasetRules()) {
      String severity = severity(rule.severity());
      if (rule instanceof DatasetRule.RowCount count) {
        boolean ok =
            (count.min() == null || rows >= count.min())
                && (count.max() == null || rows <= count.max());
        results.add(
            new Result(
                rule.name(),
                severity,
                rows,
                ok ? 0 : 1,
                String.valueOf(rows),
                bounds(count.min(), count.max()),
                ok,
                List.of()));
      } else if (rule instanceof DatasetRule.NullRate nullRate) {
        long nulls = m.counter(DatasetRule.nullsCounter(nullRate.field()));
        double rate = rows == 0 ? 0.0 : (double) nulls / rows;
        results.add(
            new Result(
                rule.name(),
                severity,
                rows,
                nulls,
                fraction(rate),
                "<= " + fraction(nullRate.max()),
                rate <= nullRate.max(),
                List.of()));
      } else if (rule instanceof DatasetRule.Unique) {
        long duplicates = m.counter(DatasetRule.duplicatesCounter(rule.name()));
        results.add(
            new Result(
                rule.name(),
                severity,
                rows,
                duplicates,
                duplicates + " duplicate(s)",
                "0 duplicates",
                duplicates == 0,
                m.strings(DatasetRule.duplicateSamples(rule.name()))));
      } else if (rule instanceof DatasetRule.Relationships relationships) {
        long orphans = m.counter(DatasetRule.orphansCounter(rule.name()));
        results.add(
            new Result(
                rule.name(),
                severity,
                rows,
                orphans,
                orphans
                    + " record(s) with a value missing from "
                    + relationships.toTable()
                    + "."
                    + relationships.toColumn(),
                "0 missing",
                orphans == 0,
                m.strings(DatasetRule.orphanSamples(rule.name()))));
      } else if (rule instanceof DatasetRule.DeadLetterRate deadLetterRate) {
        long read = m.counter(Accounting.READ);
        long dead = m.counter(Accounting.DEAD_LETTERED);
        double rate = read == 0 ? 0.0 : (double) dead / read;
        results.add(
            new Result(
                rule.name(),
                severity,
                read,
                dead,
                fraction(rate),
                "<= " + fraction(deadLetterRate.max()),
                rate <= deadLetterRate.max(),
                List.of()));
      } else if (rule instanceof DatasetRule.RowCountChange change) {
        results.add(rowCountChange(change, severity, rows, history));
      } else if (rule instanceof DatasetRule.NullRateChange change) {
        long nulls = m.counter(DatasetRule.nullsCounter(change.field()));
        results.add(nullRateChange(change, severity, rows, nulls, history));
      } else if (rule instanceof DatasetRule.Freshness freshness) {
        Long newest = m.max(DatasetRule.newestDistribution(freshness.field()));
        long lag = newest == null ? Long.MAX_VALUE : now.toEpochMilli() - newest;
        boolean ok = newest != null && lag <= freshness.maxLagMillis();
        results.add(
            new Result(
                rule.name(),
                severity,
                rows,
                ok ? 0 : 1,
                newest == null
                    ? "no value"
                    : "newest " + Instant.ofEpochMilli(newest) + ", lag " + Duration.ofMillis(lag),
                "lag <= " + Duration.ofMillis(freshness.maxLagMillis()),
                ok,
                List.of()));
      }
    }
    return new QualityReport(results);
  }

  /** The last {@code overLast} baseline runs, or null when fewer than the rule needs. */
  private static List<RunHistory.Entry> baselines(
      @Nullable List<RunHistory.Entry> history, int overLast) {
    if (history == null) {
      return null;
    }
    List<RunHistory.Entry> usable = history.stream().filter(RunHistory.Entry::baseline).toList();
    List<RunHistory.Entry> last =
        usable.subList(Math.max(0, usable.size() - overLast), usable.size());
    return last.size() < Math.min(DatasetRule.MIN_HISTORY, overLast) ? null : last;
  }

  /** A change rule's result before enough history exists: it passes, saying why. */
  private static Result notJudged(
      DatasetRule rule,
      String severity,
      long evaluated,
      long failed,
      String observed,
      @Nullable List<RunHistory.Entry> history,
      int overLast) {
    return new Result(
        rule.name(),
        severity,
        evaluated,
        failed,
        observed + ", " + notJudged(history, overLast),
        "history",
        true,
        List.of());
  }

  private static String notJudged(@Nullable List<RunHistory.Entry> history, int overLast) {
    if (history == null) {
      return "not judged (a replay, or no history)";
    }
    long usable = history.stream().filter(RunHistory.Entry::baseline).count();
    return "not judged yet: "
        + usable
        + " earlier successful run(s) in the history, "
        + Math.min(DatasetRule.MIN_HISTORY, overLast)
        + " needed";
  }

  private static Result rowCountChange(
      DatasetRule.RowCountChange rule,
      String severity,
      long rows,
      @Nullable List<RunHistory.Entry> history) {
    List<RunHistory.Entry> past = baselines(history, rule.overLast());
    if (past == null) {
      return notJudged(rule, severity, rows, 0, rows + " rows", history, rule.overLast());
    }
    double mean = past.stream().mapToLong(e -> e.count(DatasetRule.ROWS)).average().orElse(0);
    double low = mean * (1 - rule.maxDrop());
    double high = mean * rule.maxRise();
    boolean ok = rows >= low && rows <= high;
    return new Result(
        rule.name(),
        severity,
        rows,
        ok ? 0 : 1,
        rows + " rows (" + percent(mean == 0 ? 0 : rows / mean - 1) + " against the mean)",
        String.format(
            Locale.ROOT,
            "between %.1f and %.1f rows (mean %.1f of the last %d run(s), max_drop %s, max_rise %s)",
            low,
            high,
            mean,
            past.size(),
            fraction(rule.maxDrop()),
            rule.maxRise() == Double.MAX_VALUE ? "none" : String.valueOf(rule.maxRise())),
        ok,
        List.of());
  }

  private static Result nullRateChange(
      DatasetRule.NullRateChange rule,
      String severity,
      long rows,
      long nulls,
      @Nullable List<RunHistory.Entry> history) {
    double rate = rows == 0 ? 0.0 : (double) nulls / rows;
    List<RunHistory.Entry> past = baselines(history, rule.overLast());
    if (past == null) {
      return notJudged(rule, severity, rows, nulls, fraction(rate), history, rule.overLast());
    }
    String counter = DatasetRule.nullsCounter(rule.field());
    double mean =
        past.stream()
            .mapToDouble(
                e ->
                    e.count(DatasetRule.ROWS) == 0
                        ? 0.0
                        : (double) e.count(counter) / e.count(DatasetRule.ROWS))
            .average()
            .orElse(0);
    boolean ok = rate <= mean + rule.maxIncrease();
    return new Result(
        rule.name(),
        severity,
        rows,
        nulls,
        fraction(rate),
        "<= "
            + fraction(mean + rule.maxIncrease())
            + " (mean "
            + fraction(mean)
            + " of the last "
            + past.size()
            + " run(s) + max_increase "
            + fraction(rule.maxIncrease())
            + ")",
        ok,
        List.of());
  }

  private static String percent(double change) {
    return String.format(Locale.ROOT, "%+.1f%%", change * 100);
  }

  private static String severity(RecordRule.Severity severity) {
    return severity.name().toLowerCase(Locale.ROOT);
  }

  private static String fraction(double value) {
    return String.format(Locale.ROOT, "%.4f", value);
  }

  private static String bounds(@Nullable Double min, @Nullable Double max) {
    List<String> parts = new ArrayList<>();
    if (min != null) {
      parts.add(">= " + min.longValue());
    }
    if (max != null) {
      parts.add("<= " + max.longValue());
    }
    return String.join(" and ", parts);
  }

  /** One line per failed rule: name, severity, observed, threshold, samples. */
  public String failures() {
    StringBuilder out = new StringBuilder();
    for (Result r : results) {
      if (!r.passed()) {
        out.append("  ")
            .append(r.severity())
            .append(" rule ")
            .append(r.rule())
            .append(": observed ")
            .append(r.observed())
            .append(", required ")
            .append(r.threshold());
        if (!r.samples().isEmpty()) {
          out.append(", e.g. ").append(r.samples());
        }
        out.append('\n');
      }
    }
    return out.toString();
  }

  public String toJson() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("gate", failedErrors().isEmpty() ? "open" : "closed");
    ArrayNode rules = root.putArray("rules");
    for (Result r : results) {
      ObjectNode node = rules.addObject();
      node.put("rule", r.rule());
      node.put("severity", r.severity());
      node.put("evaluated", r.evaluated());
      node.put("failed", r.failed());
      node.put("observed", r.observed());
      node.put("threshold", r.threshold());
      node.put("passed", r.passed());
      r.samples().forEach(node.putArray("samples")::add);
    }
    return JSON.writeValueAsString(root);
  }

  public void writeJson(String location) throws IOException {
    try (OutputStream out =
        Channels.newOutputStream(
            FileSystems.create(FileSystems.matchNewResource(location, false), MimeTypes.TEXT))) {
      out.write(toJson().getBytes(StandardCharsets.UTF_8));
    }
  }
}

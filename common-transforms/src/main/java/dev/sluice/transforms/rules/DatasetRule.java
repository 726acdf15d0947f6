package dev.sluice.transforms.rules;

import java.io.Serializable;
import java.util.List;
import javax.annotation.Nullable;

/**
 * One dataset rule of a rules file, judged once per bounded run (or per window of a stream) over
 * the records that passed the record rules. One of five kinds, each with exactly its own
 * parameters.
 */
public sealed interface DatasetRule extends Serializable
    permits DatasetRule.RowCount,
        DatasetRule.NullRate,
        DatasetRule.Unique,
        DatasetRule.Freshness,
        DatasetRule.Relationships,
        DatasetRule.DeadLetterRate,
        DatasetRule.RowCountChange,
        DatasetRule.NullRateChange {

  /** The name in reports and counters, e.g. {@code unique(order_id)}. */
  String name();

  /** {@code error} fails the run's gate; {@code warn} only reports. */
  RecordRule.Severity severity();

  /** The field(s) the rule reads; empty for row_count. */
  List<String> fields();

  /** The rule's kind as written in rules files: {@code row_count}, {@code null_rate}, ... */
  String kind();

  /** {@code row_count}: the number of records is within {@code [min, max]} (either may be open). */
  record RowCount(
      String name, RecordRule.Severity severity, @Nullable Double min, @Nullable Double max)
      implements DatasetRule {
    @Override
    public List<String> fields() {
      return List.of();
    }

    @Override
    public String kind() {
      return "row_count";
    }
  }

  /** {@code null_rate}: the share of records whose {@code field} is null is at most {@code max}. */
  record NullRate(String name, RecordRule.Severity severity, String field, double max)
      implements DatasetRule {
    @Override
    public List<String> fields() {
      return List.of(field);
    }

    @Override
    public String kind() {
      return "null_rate";
    }
  }

  /** {@code unique}: no two records share the key {@code fields}. */
  record Unique(String name, RecordRule.Severity severity, List<String> fields)
      implements DatasetRule {
    public Unique {
      fields = List.copyOf(fields);
    }

    @Override
    public String kind() {
      return "unique";
    }
  }

  /**
   * {@code freshness}: the newest value of the timestamp {@code field} is at most {@code
   * maxLagMillis} behind the run.
   */
  record Freshness(String name, RecordRule.Severity severity, String field, long maxLagMillis)
      implements DatasetRule {
    @Override
    public List<String> fields() {
      return List.of(field);
    }

    @Override
    public String kind() {
      return "freshness";
    }
  }

  /**
   * {@code relationships}: every non-null value of {@code field} exists in column {@code toColumn}
   * of table {@code toTable}, looked up through a {@link ReferenceLookup}.
   */
  record Relationships(
      String name, RecordRule.Severity severity, String field, String toTable, String toColumn)
      implements DatasetRule {
    @Override
    public List<String> fields() {
      return List.of(field);
    }

    @Override
    public String kind() {
      return "relationships";
    }
  }

  /**
   * {@code dead_letter_rate}: the share of the records read that went to the dead letters is at
   * most {@code max}. Judged over the whole bounded run (every step's dead letters), not per
   * window.
   */
  record DeadLetterRate(String name, RecordRule.Severity severity, double max)
      implements DatasetRule {
    @Override
    public List<String> fields() {
      return List.of();
    }

    @Override
    public String kind() {
      return "dead_letter_rate";
    }
  }

  /**
   * {@code row_count_change}: the records judged, compared with the mean of the last {@code
   * overLast} runs in the run history whose gate was open: at most {@code maxDrop} fewer (a
   * fraction) and at most {@code maxRise} times as many. Not judged (passes, saying so) before
   * {@link #MIN_HISTORY} such runs exist.
   */
  record RowCountChange(
      String name, RecordRule.Severity severity, double maxDrop, double maxRise, int overLast)
      implements DatasetRule {
    @Override
    public List<String> fields() {
      return List.of();
    }

    @Override
    public String kind() {
      return "row_count_change";
    }
  }

  /**
   * {@code null_rate_change}: the share of nulls in {@code field}, compared with its mean over the
   * last {@code overLast} runs of the history: at most {@code maxIncrease} higher (in absolute
   * terms, e.g. 0.1 = ten points). Not judged before {@link #MIN_HISTORY} such runs exist.
   */
  record NullRateChange(
      String name, RecordRule.Severity severity, String field, double maxIncrease, int overLast)
      implements DatasetRule {
    @Override
    public List<String> fields() {
      return List.of(field);
    }

    @Override
    public String kind() {
      return "null_rate_change";
    }
  }

  /** Runs of history a change rule needs before it judges (or {@code over_last}, if fewer). */
  int MIN_HISTORY = 3;

  /** Whether the rule compares the run with earlier runs (and so needs a run history). */
  default boolean needsHistory() {
    return this instanceof RowCountChange || this instanceof NullRateChange;
  }

  /** The field whose nulls the rule counts, or null. */
  default String nullCountedField() {
    return this instanceof NullRate n
        ? n.field()
        : this instanceof NullRateChange c ? c.field() : null;
  }

  /** Counter of the records the dataset rules judge (those that passed the record rules). */
  String ROWS = "quality.rows";

  /** Counter of nulls of a field among those records. */
  public static String nullsCounter(String field) {
    return "quality.nulls." + field;
  }

  /** Counter of records whose key another record already has. */
  static String duplicatesCounter(String name) {
    return "quality.duplicates." + name;
  }

  /** String set of sample duplicate keys. */
  static String duplicateSamples(String name) {
    return "quality.duplicate_keys." + name;
  }

  /** Counter of records whose value the referenced column does not hold (relationships). */
  static String orphansCounter(String name) {
    return "quality.orphans." + name;
  }

  /** String set of sample values missing from the referenced column. */
  static String orphanSamples(String name) {
    return "quality.orphan_values." + name;
  }

  /** Distribution of a timestamp field (epoch millis), whose max judges freshness. */
  static String newestDistribution(String field) {
    return "quality.newest." + field;
  }
}

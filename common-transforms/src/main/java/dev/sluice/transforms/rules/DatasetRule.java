package dev.sluice.transforms.rules;

import java.io.Serializable;
import java.util.List;
import javax.annotation.Nullable;

/**
 * One dataset rule of a rules file, judged once per bounded run over the records that passed the
 * record rules: {@code row_count} (min/max), {@code null_rate} (a field's share of nulls at most
 * {@code max}), {@code unique} (no two records share the key fields) and {@code freshness} (the
 * newest value of a timestamp field at most {@code max_lag} behind the run) and {@code
 * relationships} (every non-null value of a field exists in a column of a table, looked up through
 * a {@link ReferenceLookup}).
 *
 * @param name the name in reports and counters, e.g. {@code unique(order_id)}
 * @param kind row_count, null_rate, unique or freshness
 * @param severity error fails the run's gate; warn only reports
 * @param fields the field(s) the rule reads; empty for row_count
 * @param min lower bound (row_count)
 * @param max upper bound (row_count; null_rate as a fraction)
 * @param maxLagMillis the largest lag allowed (freshness)
 * @param toTable the referenced table (relationships)
 * @param toColumn the referenced column (relationships)
 */
public record DatasetRule(
    String name,
    String kind,
    RecordRule.Severity severity,
    List<String> fields,
    @Nullable Double min,
    @Nullable Double max,
    @Nullable Long maxLagMillis,
    @Nullable String toTable,
    @Nullable String toColumn)
    implements Serializable {

  /** Counter of the records the dataset rules judge (those that passed the record rules). */
  public static final String ROWS = "quality.rows";

  /** Counter of nulls of a field among those records. */
  public static String nullsCounter(String field) {
    return "quality.nulls." + field;
  }

  /** Counter of records whose key another record already has. */
  public static String duplicatesCounter(String name) {
    return "quality.duplicates." + name;
  }

  /** String set of sample duplicate keys. */
  public static String duplicateSamples(String name) {
    return "quality.duplicate_keys." + name;
  }

  /** Counter of records whose value the referenced column does not hold (relationships). */
  public static String orphansCounter(String name) {
    return "quality.orphans." + name;
  }

  /** String set of sample values missing from the referenced column. */
  public static String orphanSamples(String name) {
    return "quality.orphan_values." + name;
  }

  /** Distribution of a timestamp field (epoch millis), whose max judges freshness. */
  public static String newestDistribution(String field) {
    return "quality.newest." + field;
  }
}

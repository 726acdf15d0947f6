package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.Traced;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.values.PCollection;

/**
 * One dataset rule of a rules file, judged once per bounded run (or per window of a stream) over
 * the records that passed the record rules. Each kind is one class that owns its YAML keys (its
 * {@link DatasetRuleKind}), what it measures, and its judgement; {@link ApplyRules}, {@link
 * WindowedQuality} and the run's quality report only dispatch to it.
 */
public interface DatasetRule extends Serializable {

  /** The name in reports and counters, e.g. {@code unique(order_id)}. */
  String name();

  /** {@code error} fails the run's gate; {@code warn} only reports. */
  RecordRule.Severity severity();

  /** The field(s) the rule reads; empty for row_count. */
  List<String> fields();

  /** The rule's kind as written in rules files: {@code row_count}, {@code null_rate}, ... */
  String kind();

  /** Bounded run: counts what {@link #judge} reads, for one record that passed the record rules. */
  default void measure(GenericRecord record, Measures measures) {}

  /**
   * Bounded run: steps over the records that passed the record rules whose metrics {@link #judge}
   * reads (e.g. unique's count per key). {@code references} is where relationships look up.
   */
  default void expand(
      PCollection<Traced<GenericRecord>> passed,
      String namespace,
      @Nullable ReferenceLookup references) {}

  /** Judges a bounded run from its figures. */
  Verdict judge(Figures figures);

  /**
   * A stream: the measures of one record, as (key, amount) pairs that are summed per key over a
   * window and handed to {@link #judgeWindow}. Keys are the rule's own.
   */
  default void measureWindow(GenericRecord record, BiConsumer<String, Long> out) {}

  /**
   * A stream: judges one window from its row count and this rule's summed measures; null when the
   * rule is judged only in bounded runs.
   */
  default @Nullable Observed judgeWindow(long rows, Map<String, Long> measures, long now) {
    return null;
  }

  /** A window's figure (rows, nulls per thousand, duplicates, a lag in ms) and whether it holds. */
  record Observed(long value, boolean ok) {}

  /** Whether the rule compares the run with earlier runs (and so needs a run history). */
  default boolean needsHistory() {
    return false;
  }

  /** Runs of history a change rule needs before it judges (or {@code over_last}, if fewer). */
  int MIN_HISTORY = 3;

  /** Counter of the records the dataset rules judge (those that passed the record rules). */
  String ROWS = "quality.rows";

  /** Counter of nulls of a field among those records. */
  static String nullsCounter(String field) {
    return "quality.nulls." + field;
  }
}

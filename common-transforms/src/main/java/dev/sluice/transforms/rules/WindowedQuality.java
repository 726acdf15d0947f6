package dev.sluice.transforms.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dataset rules on a stream, judged per window: the records that passed the record rules are
 * measured, the measures summed per processing-time window of {@code every}, and each rule judged
 * on its window's figures. There is no gate; each verdict is reported as metrics, {@code
 * quality.window.<rule>.windows} and {@code .failed_windows} (counters) and {@code
 * quality.window.<rule>.observed} (a gauge of the last window's figure: rows, nulls per thousand,
 * duplicates, or the newest value's lag in ms), and logged. {@code relationships} is judged only in
 * bounded runs.
 */
final class WindowedQuality extends PTransform<PCollection<GenericRecord>, PCollection<Void>> {
  private static final Logger LOG = LoggerFactory.getLogger(WindowedQuality.class);
  private final List<DatasetRule> rules;
  private final String namespace;
  private final Duration every;

  WindowedQuality(List<DatasetRule> rules, String namespace, Duration every) {
    this.rules = rules;
    this.namespace = namespace;
    this.every = every;
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("rules", rules.size())).add(DisplayData.item("every", every));
  }

  @Override
  public PCollection<Void> expand(PCollection<GenericRecord> records) {
    return records
        .apply("Measure", ParDo.of(new MeasureFn(rules)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()))
        .apply(
            "EveryWindow",
            Window.<KV<String, Long>>into(new GlobalWindows())
                .triggering(
                    Repeatedly.forever(
                        AfterProcessingTime.pastFirstElementInPane().plusDelayOf(every)))
                .withAllowedLateness(Duration.ZERO)
                .withOnTimeBehavior(Window.OnTimeBehavior.FIRE_IF_NON_EMPTY)
                .discardingFiredPanes())
        .apply("Sum", Sum.longsPerKey())
        .apply("OneGroup", ParDo.of(new ToOneKeyFn()))
        .setCoder(
            KvCoder.of(StringUtf8Coder.of(), KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())))
        .apply("Gather", org.apache.beam.sdk.transforms.GroupByKey.create())
        .apply("Judge", ParDo.of(new JudgeFn(rules, namespace)));
  }

  /**
   * Measures of one record: {@code rows}, {@code nulls|<field>}, {@code key|<rule>|<key>} and the
   * freshness fields' values as {@code value|<field>} (judged by the window's newest).
   */
  static final class MeasureFn extends DoFn<GenericRecord, KV<String, Long>> {
    private final List<DatasetRule> rules;

    MeasureFn(List<DatasetRule> rules) {
      this.rules = rules;
    }

    @ProcessElement
    public void process(@Element GenericRecord record, OutputReceiver<KV<String, Long>> out) {
      out.output(KV.of("rows", 1L));
      for (DatasetRule rule : rules) {
        if (rule instanceof DatasetRule.NullRate nullRate) {
          if (record.get(nullRate.field()) == null) {
            out.output(KV.of("nulls|" + nullRate.field(), 1L));
          }
        } else if (rule instanceof DatasetRule.Unique) {
          out.output(KV.of("key|" + rule.name() + "|" + ApplyRules.key(record, rule.fields()), 1L));
        } else if (rule instanceof DatasetRule.Freshness freshness) {
          Object value = record.get(freshness.field());
          if (value != null) {
            out.output(KV.of("newest|" + freshness.field() + "|" + value, 1L));
          }
        }
      }
    }
  }

  static final class ToOneKeyFn extends DoFn<KV<String, Long>, KV<String, KV<String, Long>>> {
    @ProcessElement
    public void process(
        @Element KV<String, Long> measure, OutputReceiver<KV<String, KV<String, Long>>> out) {
      out.output(KV.of("window", measure));
    }
  }

  /** Judges each rule on one window's figures. */
  static final class JudgeFn extends DoFn<KV<String, Iterable<KV<String, Long>>>, Void> {
    private final List<DatasetRule> rules;
    private final String namespace;

    JudgeFn(List<DatasetRule> rules, String namespace) {
      this.rules = rules;
      this.namespace = namespace;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<KV<String, Long>>> window) {
      long rows = 0;
      Map<String, Long> nulls = new HashMap<>();
      Map<String, Long> duplicates = new HashMap<>();
      Map<String, Long> newest = new HashMap<>();
      for (KV<String, Long> measure : window.getValue()) {
        if (measure.getValue() == 0) {
          continue; // a key's empty closing pane, not a measure of this window
        }
        String[] parts = measure.getKey().split("\\|", 3);
        switch (parts[0]) {
          case "rows" -> rows += measure.getValue();
          case "nulls" -> nulls.merge(parts[1], measure.getValue(), Long::sum);
          case "key" -> duplicates.merge(parts[1], measure.getValue() - 1, Long::sum);
          case "newest" -> newest.merge(parts[1], Long.parseLong(parts[2]), Math::max);
          default -> {}
        }
      }
      if (rows == 0) {
        return; // nothing arrived in this window
      }
      long now = System.currentTimeMillis();
      List<String> failures = new ArrayList<>();
      for (DatasetRule rule : rules) {
        long observed;
        boolean ok;
        if (rule instanceof DatasetRule.RowCount count) {
          observed = rows;
          ok =
              (count.min() == null || rows >= count.min())
                  && (count.max() == null || rows <= count.max());
        } else if (rule instanceof DatasetRule.NullRate nullRate) {
          long n = nulls.getOrDefault(nullRate.field(), 0L);
          observed = rows == 0 ? 0 : n * 1000 / rows;
          ok = rows == 0 || (double) n / rows <= nullRate.max();
        } else if (rule instanceof DatasetRule.Unique) {
          observed = duplicates.getOrDefault(rule.name(), 0L);
          ok = observed == 0;
        } else if (rule instanceof DatasetRule.Freshness freshness) {
          Long value = newest.get(freshness.field());
          observed = value == null ? -1 : now - value;
          ok = value != null && observed <= freshness.maxLagMillis();
        } else {
          continue; // relationships, dead_letter_rate, changes: judged only in bounded runs
        }
        String prefix = ApplyRules.WINDOW_PREFIX + rule.name();
        Metrics.counter(namespace, prefix + ".windows").inc();
        Metrics.gauge(namespace, prefix + ".observed").set(observed);
        if (!ok) {
          Metrics.counter(namespace, prefix + ".failed_windows").inc();
          failures.add(
              rule.severity().name().toLowerCase() + " " + rule.name() + " observed " + observed);
        }
      }
      if (failures.isEmpty()) {
        LOG.info("{}: quality window of {} row(s): all dataset rules pass", namespace, rows);
      } else {
        LOG.warn(
            "{}: quality window of {} row(s): {}", namespace, rows, String.join("; ", failures));
      }
    }
  }
}

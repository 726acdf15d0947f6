package dev.sluice.transforms.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
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
        .apply("Gather", GroupByKey.create())
        .apply("Judge", ParDo.of(new JudgeFn(rules, namespace)));
  }

  /**
   * Measures of one record: {@code rows}, and each rule's own measures under its index, {@code
   * <index>|<key>}.
   */
  static final class MeasureFn extends DoFn<GenericRecord, KV<String, Long>> {
    private final List<DatasetRule> rules;

    MeasureFn(List<DatasetRule> rules) {
      this.rules = rules;
    }

    @ProcessElement
    public void process(@Element GenericRecord record, OutputReceiver<KV<String, Long>> out) {
      out.output(KV.of("rows", 1L));
      for (int i = 0; i < rules.size(); i++) {
        String prefix = i + "|";
        rules
            .get(i)
            .measureWindow(record, (key, amount) -> out.output(KV.of(prefix + key, amount)));
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
      List<Map<String, Long>> measures = new ArrayList<>();
      for (int i = 0; i < rules.size(); i++) {
        measures.add(new HashMap<>());
      }
      for (KV<String, Long> measure : window.getValue()) {
        if (measure.getValue() == 0) {
          continue; // a key's empty closing pane, not a measure of this window
        }
        if (measure.getKey().equals("rows")) {
          rows += measure.getValue();
          continue;
        }
        int bar = measure.getKey().indexOf('|');
        measures
            .get(Integer.parseInt(measure.getKey().substring(0, bar)))
            .merge(measure.getKey().substring(bar + 1), measure.getValue(), Long::sum);
      }
      if (rows == 0) {
        return; // nothing arrived in this window
      }
      long now = System.currentTimeMillis();
      List<String> failures = new ArrayList<>();
      for (int i = 0; i < rules.size(); i++) {
        DatasetRule rule = rules.get(i);
        DatasetRule.Observed observed = rule.judgeWindow(rows, measures.get(i), now);
        if (observed == null) {
          continue; // relationships, dead_letter_rate, changes: judged only in bounded runs
        }
        String prefix = ApplyRules.WINDOW_PREFIX + rule.name();
        Metrics.counter(namespace, prefix + ".windows").inc();
        Metrics.gauge(namespace, prefix + ".observed").set(observed.value());
        if (!observed.ok()) {
          Metrics.counter(namespace, prefix + ".failed_windows").inc();
          failures.add(
              rule.severity().name().toLowerCase(Locale.ROOT)
                  + " "
                  + rule.name()
                  + " observed "
                  + observed.value());
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

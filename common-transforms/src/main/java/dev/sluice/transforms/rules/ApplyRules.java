package dev.sluice.transforms.rules;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;

/**
 * Applies the record rules of a rules file to each record. A record failing an {@code error} rule
 * becomes a dead letter ({@code reason=rule}, the rule's name in {@code rule}); {@code warn} rules
 * and rules with {@code mostly} count failures and keep the record. Counters per rule, under the
 * pipeline's namespace: {@code rule.<name>.evaluated} and {@code rule.<name>.failed}.
 */
@AutoValue
public abstract class ApplyRules
    extends PTransform<PCollection<Traced<GenericRecord>>, Result<Traced<GenericRecord>>> {
  public static final String STEP = "Rules";

  /** Prefix of the per-rule counters. */
  public static final String COUNTER_PREFIX = "rule.";

  /**
   * Prefix of a streaming run's windowed dataset-rule metrics: {@code <prefix><rule>.windows} and
   * {@code .failed_windows} (counters) and {@code .observed} (a gauge, the newest window's value).
   */
  public static final String WINDOW_PREFIX = "quality.window.";

  abstract RulesFile rules();

  abstract Schema schema();

  abstract String pipeline();

  abstract @Nullable ReferenceLookup references();

  abstract @Nullable Duration qualityWindow();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setRules(RulesFile rules);

    abstract Builder setSchema(Schema schema);

    abstract Builder setPipeline(String pipeline);

    abstract Builder setReferences(@Nullable ReferenceLookup references);

    abstract Builder setQualityWindow(@Nullable Duration window);

    abstract ApplyRules build();
  }

  public static ApplyRules of(RulesFile rules, Schema schema, String pipeline) {
    checkArgument(rules != null, "rules must not be null");
    checkArgument(schema != null, "schema must not be null");
    checkArgument(
        pipeline != null && !pipeline.isBlank(), "pipeline must be a name, but was %s", pipeline);
    return new AutoValue_ApplyRules.Builder()
        .setRules(rules)
        .setSchema(schema)
        .setPipeline(pipeline)
        .build();
  }

  /** Where {@code relationships} rules look their values up. */
  public ApplyRules withReferences(ReferenceLookup references) {
    checkArgument(references != null, "references must not be null");
    return toBuilder().setReferences(references).build();
  }

  /**
   * For a stream: the dataset rules are judged every {@code window} over that window's records
   * (reported as metrics) instead of once over the whole run. Said explicitly, because a bounded
   * read may still be an unbounded collection (Beam's Kafka read).
   */
  public ApplyRules withQualityWindow(Duration window) {
    checkArgument(
        window != null && window.isLongerThan(Duration.ZERO),
        "qualityWindow must be positive, but was %s",
        window);
    return toBuilder().setQualityWindow(window).build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("recordRules", rules().recordRules().size()))
        .add(DisplayData.item("datasetRules", rules().datasetRules().size()))
        .addIfNotNull(DisplayData.item("qualityWindow", qualityWindow()));
  }

  @Override
  public Result<Traced<GenericRecord>> expand(PCollection<Traced<GenericRecord>> input) {
    RulesFile rules = rules();
    Schema schema = schema();
    String pipeline = pipeline();
    ReferenceLookup references = references();
    Duration window = qualityWindow();
    TupleTag<Traced<GenericRecord>> passed = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    PCollectionTuple out =
        input.apply(
            "CheckRecords",
            ParDo.of(
                    new CheckFn(
                        rules.recordRules(),
                        rules.datasetRules(),
                        pipeline,
                        DeadLetters.forStep(pipeline, STEP).withSchema(schema),
                        passed,
                        failed))
                .withOutputTags(passed, TupleTagList.of(failed)));
    out.get(passed).setCoder(input.getCoder());
    out.get(failed).setCoder(DeadLetters.coder());
    if (window != null) {
      if (!rules.datasetRules().isEmpty()) {
        out.get(passed)
            .apply("Values", Traced.values(AvroCoder.of(schema)))
            .apply(
                "DatasetRulesPerWindow",
                new WindowedQuality(rules.datasetRules(), pipeline, window));
      }
      return Result.of(out, passed, failed);
    }
    for (DatasetRule rule : rules.datasetRules()) {
      rule.expand(out.get(passed), pipeline, references);
    }
    return Result.of(out, passed, failed);
  }

  static final class CheckFn extends DoFn<Traced<GenericRecord>, Traced<GenericRecord>> {
    private final List<RecordRule> rules;
    private final List<DatasetRule> datasetRules;
    private final String namespace;
    private final DeadLetters deadLetters;
    private final TupleTag<Traced<GenericRecord>> passed;
    private final TupleTag<DeadLetter> failed;

    CheckFn(
        List<RecordRule> rules,
        List<DatasetRule> datasetRules,
        String namespace,
        DeadLetters deadLetters,
        TupleTag<Traced<GenericRecord>> passed,
        TupleTag<DeadLetter> failed) {
      this.rules = rules;
      this.datasetRules = datasetRules;
      this.namespace = namespace;
      this.deadLetters = deadLetters;
      this.passed = passed;
      this.failed = failed;
    }

    private transient Set<String> measured;

    /** Each dataset rule counts what it judges; a counter two rules share counts once. */
    private void measure(GenericRecord record) {
      if (datasetRules.isEmpty()) {
        return;
      }
      Metrics.counter(namespace, DatasetRule.ROWS).inc();
      if (measured == null) {
        measured = new HashSet<>();
      }
      measured.clear();
      Measures measures =
          new Measures() {
            @Override
            public void count(String name) {
              if (measured.add(name)) {
                Metrics.counter(namespace, name).inc();
              }
            }

            @Override
            public void update(String name, long value) {
              if (measured.add(name)) {
                Metrics.distribution(namespace, name).update(value);
              }
            }
          };
      for (DatasetRule rule : datasetRules) {
        rule.measure(record, measures);
      }
    }

    @ProcessElement
    public void process(@Element Traced<GenericRecord> element, MultiOutputReceiver out) {
      RecordException rejection = null;
      for (RecordRule rule : rules) {
        Metrics.counter(namespace, COUNTER_PREFIX + rule.name() + ".evaluated").inc();
        String failure = rule.failure(element.value());
        if (failure == null) {
          continue;
        }
        Metrics.counter(namespace, COUNTER_PREFIX + rule.name() + ".failed").inc();
        if (rejection == null && rule.rejects()) {
          rejection =
              new RecordException(
                  FailureReason.RULE,
                  "rule " + rule.name() + " failed: " + failure,
                  rule.name(),
                  null);
        }
      }
      if (rejection == null) {
        measure(element.value());
        out.get(passed).output(element);
      } else {
        out.get(failed).output(deadLetters.of(element.source(), rejection));
      }
    }
  }
}

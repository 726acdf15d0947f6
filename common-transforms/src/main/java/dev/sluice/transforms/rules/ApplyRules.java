package dev.sluice.transforms.rules;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Applies the record rules of a rules file to each record. A record failing an {@code error} rule
 * becomes a dead letter ({@code reason=rule}, the rule's name in {@code rule}); {@code warn} rules
 * and rules with {@code mostly} count failures and keep the record. Counters per rule, under the
 * pipeline's namespace: {@code rule.<name>.evaluated} and {@code rule.<name>.failed}.
 */
public final class ApplyRules
    extends PTransform<
        PCollection<KV<SourceRecord, GenericRecord>>, Result<KV<SourceRecord, GenericRecord>>> {
  public static final String STEP = "Rules";

  /** Prefix of the per-rule counters. */
  public static final String COUNTER_PREFIX = "rule.";

  private final RulesFile rules;
  private final Schema schema;
  private final String pipeline;
  private final ReferenceLookup references;
  private final Duration window;

  private ApplyRules(
      RulesFile rules,
      Schema schema,
      String pipeline,
      ReferenceLookup references,
      Duration window) {
    super(STEP);
    this.rules = rules;
    this.schema = schema;
    this.pipeline = pipeline;
    this.references = references;
    this.window = window;
  }

  public static ApplyRules of(RulesFile rules, Schema schema, String pipeline) {
    return new ApplyRules(rules, schema, pipeline, null, null);
  }

  /** Where {@code relationships} rules look their values up. */
  public ApplyRules withReferences(ReferenceLookup references) {
    return new ApplyRules(rules, schema, pipeline, references, window);
  }

  /**
   * For a stream: the dataset rules are judged every {@code window} over that window's records
   * (reported as metrics) instead of once over the whole run. Said explicitly, because a bounded
   * read may still be an unbounded collection (Beam's Kafka read).
   */
  public ApplyRules streaming(Duration window) {
    return new ApplyRules(rules, schema, pipeline, references, window);
  }

  @Override
  public Result<KV<SourceRecord, GenericRecord>> expand(
      PCollection<KV<SourceRecord, GenericRecord>> input) {
    TupleTag<KV<SourceRecord, GenericRecord>> passed = new TupleTag<>() {};
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
            .apply("Values", org.apache.beam.sdk.transforms.Values.<GenericRecord>create())
            .setCoder(org.apache.beam.sdk.extensions.avro.coders.AvroCoder.of(schema))
            .apply(
                "DatasetRulesPerWindow",
                new WindowedQuality(rules.datasetRules(), pipeline, window));
      }
      return Result.of(out, passed, failed);
    }
    for (DatasetRule rule : rules.datasetRules()) {
      if (rule.kind().equals("unique")) {
        out.get(passed)
            .apply(
                "KeysOf " + rule.name(),
                MapElements.into(TypeDescriptors.strings())
                    .via(kv -> key(kv.getValue(), rule.fields())))
            .apply("Count " + rule.name(), Count.perElement())
            .apply("Duplicates " + rule.name(), ParDo.of(new DuplicatesFn(pipeline, rule.name())));
      } else if (rule.kind().equals("relationships")) {
        if (references == null) {
          throw new IllegalArgumentException(
              "rule " + rule.name() + " needs a place to look values up (withReferences)");
        }
        String field = rule.fields().get(0);
        out.get(passed)
            .apply(
                "ValuesOf " + rule.name(),
                org.apache.beam.sdk.transforms.FlatMapElements.into(TypeDescriptors.strings())
                    .via(
                        kv ->
                            kv.getValue().get(field) == null
                                ? List.<String>of()
                                : List.of(String.valueOf(kv.getValue().get(field)))))
            .apply("Count " + rule.name(), Count.perElement())
            .apply("LookUp " + rule.name(), ParDo.of(new OrphansFn(pipeline, rule, references)));
      }
    }
    return Result.of(out, passed, failed);
  }

  /** The key fields of a record as text, e.g. {@code order_id=42}. */
  static String key(GenericRecord record, List<String> fields) {
    StringBuilder key = new StringBuilder();
    for (String field : fields) {
      key.append(key.length() == 0 ? "" : ",").append(field).append('=').append(record.get(field));
    }
    return key.toString();
  }

  /** Counts the records whose key another record already has; keeps a few keys as samples. */
  static final class DuplicatesFn extends DoFn<KV<String, Long>, Void> {
    static final int SAMPLES = 5;
    private final String namespace;
    private final String rule;
    private transient int sampled;

    DuplicatesFn(String namespace, String rule) {
      this.namespace = namespace;
      this.rule = rule;
    }

    @ProcessElement
    public void process(@Element KV<String, Long> counted) {
      if (counted.getValue() > 1) {
        Metrics.counter(namespace, DatasetRule.duplicatesCounter(rule)).inc(counted.getValue() - 1);
        if (sampled++ < SAMPLES) {
          Metrics.stringSet(namespace, DatasetRule.duplicateSamples(rule)).add(counted.getKey());
        }
      }
    }
  }

  /**
   * Looks distinct values up in batches and counts the records whose value is missing from the
   * referenced column; keeps a few missing values as samples.
   */
  static final class OrphansFn extends DoFn<KV<String, Long>, Void> {
    static final int BATCH = 1000;
    private final String namespace;
    private final DatasetRule rule;
    private final ReferenceLookup references;
    private transient Map<String, Long> pending;
    private transient int sampled;

    OrphansFn(String namespace, DatasetRule rule, ReferenceLookup references) {
      this.namespace = namespace;
      this.rule = rule;
      this.references = references;
    }

    @StartBundle
    public void start() {
      pending = new java.util.LinkedHashMap<>();
    }

    @ProcessElement
    public void process(@Element KV<String, Long> counted) throws Exception {
      pending.merge(counted.getKey(), counted.getValue(), Long::sum);
      if (pending.size() >= BATCH) {
        flush();
      }
    }

    @FinishBundle
    public void finish() throws Exception {
      flush();
    }

    private void flush() throws Exception {
      if (pending.isEmpty()) {
        return;
      }
      for (String value : references.missing(rule, List.copyOf(pending.keySet()))) {
        Metrics.counter(namespace, DatasetRule.orphansCounter(rule.name())).inc(pending.get(value));
        if (sampled++ < DuplicatesFn.SAMPLES) {
          Metrics.stringSet(namespace, DatasetRule.orphanSamples(rule.name()))
              .add(rule.fields().get(0) + "=" + value);
        }
      }
      pending.clear();
    }
  }

  static final class CheckFn
      extends DoFn<KV<SourceRecord, GenericRecord>, KV<SourceRecord, GenericRecord>> {
    private final List<RecordRule> rules;
    private final List<DatasetRule> datasetRules;
    private final String namespace;
    private final DeadLetters deadLetters;
    private final TupleTag<KV<SourceRecord, GenericRecord>> passed;
    private final TupleTag<DeadLetter> failed;

    CheckFn(
        List<RecordRule> rules,
        List<DatasetRule> datasetRules,
        String namespace,
        DeadLetters deadLetters,
        TupleTag<KV<SourceRecord, GenericRecord>> passed,
        TupleTag<DeadLetter> failed) {
      this.rules = rules;
      this.datasetRules = datasetRules;
      this.namespace = namespace;
      this.deadLetters = deadLetters;
      this.passed = passed;
      this.failed = failed;
    }

    private void measure(GenericRecord record) {
      if (datasetRules.isEmpty()) {
        return;
      }
      Metrics.counter(namespace, DatasetRule.ROWS).inc();
      for (DatasetRule rule : datasetRules) {
        if (rule.kind().equals("null_rate") && record.get(rule.fields().get(0)) == null) {
          Metrics.counter(namespace, DatasetRule.nullsCounter(rule.fields().get(0))).inc();
        } else if (rule.kind().equals("freshness") && record.get(rule.fields().get(0)) != null) {
          Metrics.distribution(namespace, DatasetRule.newestDistribution(rule.fields().get(0)))
              .update(((Number) record.get(rule.fields().get(0))).longValue());
        }
      }
    }

    @ProcessElement
    public void process(@Element KV<SourceRecord, GenericRecord> element, MultiOutputReceiver out) {
      RecordException rejection = null;
      for (RecordRule rule : rules) {
        Metrics.counter(namespace, COUNTER_PREFIX + rule.name() + ".evaluated").inc();
        String failure = rule.failure(element.getValue());
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
        measure(element.getValue());
        out.get(passed).output(element);
      } else {
        out.get(failed).output(deadLetters.of(element.getKey(), rejection));
      }
    }
  }
}

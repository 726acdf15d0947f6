package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.Traced;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/** {@code unique}: no two records share the key {@code fields}. */
public record Unique(String name, RecordRule.Severity severity, List<String> fields)
    implements DatasetRule {
  /** Failing keys kept as samples. */
  static final int SAMPLES = 5;

  public Unique {
    fields = List.copyOf(fields);
  }

  /** Reads {@code {rule: unique, fields: [order_id]}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "unique";
    }

    @Override
    public Set<String> keys() {
      return Set.of("fields");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      List<String> fields = spec.fields("fields");
      return new Unique(spec.name(String.join(",", fields)), severity, fields);
    }
  }

  /** Counter of records whose key another record already has. */
  static String duplicatesCounter(String name) {
    return "quality.duplicates." + name;
  }

  /** String set of sample duplicate keys. */
  static String duplicateSamples(String name) {
    return "quality.duplicate_keys." + name;
  }

  /** The key fields of a record as text, e.g. {@code order_id=42}. */
  static String key(GenericRecord record, List<String> fields) {
    StringBuilder key = new StringBuilder();
    for (String field : fields) {
      key.append(key.length() == 0 ? "" : ",").append(field).append('=').append(record.get(field));
    }
    return key.toString();
  }

  @Override
  public String kind() {
    return "unique";
  }

  @Override
  public void expand(
      PCollection<Traced<GenericRecord>> passed,
      String namespace,
      @Nullable ReferenceLookup references) {
    List<String> keyFields = fields;
    passed
        .apply(
            "KeysOf " + name,
            MapElements.into(TypeDescriptors.strings()).via(kv -> key(kv.value(), keyFields)))
        .apply("Count " + name, Count.perElement())
        .apply("Duplicates " + name, ParDo.of(new DuplicatesFn(namespace, name)));
  }

  @Override
  public Verdict judge(Figures figures) {
    long duplicates = figures.counter(duplicatesCounter(name));
    return new Verdict(
        name,
        severity,
        figures.rows(),
        duplicates,
        duplicates + " duplicate(s)",
        "0 duplicates",
        duplicates == 0,
        figures.samples(duplicateSamples(name)));
  }

  @Override
  public void measureWindow(GenericRecord record, BiConsumer<String, Long> out) {
    out.accept("key|" + key(record, fields), 1L);
  }

  @Override
  public Observed judgeWindow(long rows, Map<String, Long> measures, long now) {
    long duplicates = 0;
    for (long count : measures.values()) {
      duplicates += count - 1;
    }
    return new Observed(duplicates, duplicates == 0);
  }

  /** Counts the records whose key another record already has; keeps a few keys as samples. */
  static final class DuplicatesFn extends DoFn<KV<String, Long>, Void> {
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
        Metrics.counter(namespace, duplicatesCounter(rule)).inc(counted.getValue() - 1);
        if (sampled++ < SAMPLES) {
          Metrics.stringSet(namespace, duplicateSamples(rule)).add(counted.getKey());
        }
      }
    }
  }
}

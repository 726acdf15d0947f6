package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.BatchingFn;
import dev.sluice.transforms.core.Traced;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * {@code relationships}: every non-null value of {@code field} exists in column {@code toColumn} of
 * table {@code toTable}, looked up through a {@link ReferenceLookup}. Judged in bounded runs.
 */
public record Relationships(
    String name, RecordRule.Severity severity, String field, String toTable, String toColumn)
    implements DatasetRule {
  private static final Pattern IDENTIFIER =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

  /** Reads {@code {rule: relationships, field: customer_id, to: crm.customers, column: id}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "relationships";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "to", "column");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      String field = spec.field("field");
      Schema.Type type = spec.typeOf(field).getType();
      if (type != Schema.Type.LONG && type != Schema.Type.INT && type != Schema.Type.STRING) {
        throw spec.error(
            "field",
            "relationships needs a long, int or string field, but " + field + " is " + type);
      }
      String toTable = spec.required("to");
      if (!IDENTIFIER.matcher(toTable).matches()) {
        throw spec.error(
            "to", "to must be a table name (table or schema.table), but was '" + toTable + "'");
      }
      String schemaOfTo = toTable.contains(".") ? toTable.substring(0, toTable.indexOf('.')) : "";
      if (schemaOfTo.equalsIgnoreCase("pg_catalog")
          || schemaOfTo.equalsIgnoreCase("information_schema")
          || toTable.toLowerCase(Locale.ROOT).startsWith("pg_")) {
        throw spec.error(
            "to",
            "to must be a table of the data, not of the system catalogs, but was '"
                + toTable
                + "'");
      }
      String toColumn = spec.text("column", field);
      if (!IDENTIFIER.matcher(toColumn).matches() || toColumn.contains(".")) {
        throw spec.error("column", "column must be a column name, but was '" + toColumn + "'");
      }
      return new Relationships(spec.name(field), severity, field, toTable, toColumn);
    }
  }

  /** Counter of records whose value the referenced column does not hold. */
  static String orphansCounter(String name) {
    return "quality.orphans." + name;
  }

  /** String set of sample values missing from the referenced column. */
  static String orphanSamples(String name) {
    return "quality.orphan_values." + name;
  }

  @Override
  public List<String> fields() {
    return List.of(field);
  }

  @Override
  public String kind() {
    return "relationships";
  }

  @Override
  public void expand(
      PCollection<Traced<GenericRecord>> passed,
      String namespace,
      @Nullable ReferenceLookup references) {
    if (references == null) {
      throw new IllegalArgumentException(
          "rule " + name + " needs a place to look values up (withReferences)");
    }
    String looked = field;
    passed
        .apply(
            "ValuesOf " + name,
            FlatMapElements.into(TypeDescriptors.strings())
                .via(
                    kv ->
                        kv.value().get(looked) == null
                            ? List.<String>of()
                            : List.of(String.valueOf(kv.value().get(looked)))))
        .apply("Count " + name, Count.perElement())
        .apply("LookUp " + name, ParDo.of(new OrphansFn(namespace, this, references)));
  }

  @Override
  public Verdict judge(Figures figures) {
    long orphans = figures.counter(orphansCounter(name));
    return new Verdict(
        name,
        severity,
        figures.rows(),
        orphans,
        orphans + " record(s) with a value missing from " + toTable + "." + toColumn,
        "0 missing",
        orphans == 0,
        figures.samples(orphanSamples(name)));
  }

  /**
   * Looks distinct values up in batches and counts the records whose value is missing from the
   * referenced column; keeps a few missing values as samples.
   */
  static final class OrphansFn extends BatchingFn<KV<String, Long>, Void> {
    static final int BATCH = 1000;
    private final String namespace;
    private final Relationships rule;
    private final ReferenceLookup references;
    private transient int sampled;

    OrphansFn(String namespace, Relationships rule, ReferenceLookup references) {
      super(BATCH);
      this.namespace = namespace;
      this.rule = rule;
      this.references = references;
    }

    @Override
    protected void flush(List<Pending<KV<String, Long>>> batch, Emitter out) throws Exception {
      Map<String, Long> counts = new LinkedHashMap<>();
      for (Pending<KV<String, Long>> counted : batch) {
        counts.merge(counted.element().getKey(), counted.element().getValue(), Long::sum);
      }
      for (String value : references.missing(rule, List.copyOf(counts.keySet()))) {
        Metrics.counter(namespace, orphansCounter(rule.name())).inc(counts.get(value));
        if (sampled++ < Unique.SAMPLES) {
          Metrics.stringSet(namespace, orphanSamples(rule.name())).add(rule.field() + "=" + value);
        }
      }
    }
  }
}

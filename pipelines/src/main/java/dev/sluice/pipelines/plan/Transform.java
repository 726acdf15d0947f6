package dev.sluice.pipelines.plan;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcLookupTable;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.pipelines.options.Durations;
import dev.sluice.pipelines.options.TransformOptions;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.sql.RecordTransform;
import dev.sluice.transforms.sql.RefreshedLookup;
import dev.sluice.transforms.sql.TransformSpec;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * A run's planned transform step: the checked steps (their output typed before anything is read),
 * the lookup tables they join, and the lateness windowed aggregates allow.
 *
 * @param steps the checked steps
 * @param lookups the lookup tables, read from {@code database}
 * @param database the pipeline's database, or null when there are no lookups
 * @param allowedLateness how late an event may still update its window, or null for none
 * @param lookupRefresh how often each worker reads the lookups again ({@code --lookupRefresh}: they
 *     are read by key as the steps join them), or null to read each once per run
 */
public record Transform(
    RecordTransform steps,
    List<JdbcLookupTable> lookups,
    @Nullable JdbcConnection database,
    @Nullable Duration allowedLateness,
    @Nullable Duration lookupRefresh)
    implements Serializable {
  public Transform {
    lookups = List.copyOf(lookups);
  }

  /**
   * The transform the options ask for over records of {@code input}, or null when they ask for
   * none; refused, naming the step and column, when a step does not fit. Its rows fit {@code
   * --outputSchema} when that is given.
   *
   * @param database where lookups are read (null: the pipeline has no database)
   * @param decimals the sink's decimal columns (precision, scale) by name
   * @param needsContract whether the sink takes its columns from {@code --outputSchema} (a lake
   *     table), so that a transform without one is refused
   */
  public static @Nullable Transform plan(
      TransformOptions options,
      Schema input,
      @Nullable JdbcConnection database,
      Map<String, int[]> decimals,
      boolean needsContract) {
    return plan(options, input, database, decimals, needsContract, UnaryOperator.identity());
  }

  /**
   * As {@link #plan(TransformOptions, Schema, JdbcConnection, Map, boolean)}, the rows held to
   * {@code --outputSchema} as {@code shape} makes it (a replica's bookkeeping fields added, say).
   */
  public static @Nullable Transform plan(
      TransformOptions options,
      Schema input,
      @Nullable JdbcConnection database,
      Map<String, int[]> decimals,
      boolean needsContract,
      UnaryOperator<Schema> shape) {
    Schema contract =
        options.getOutputSchema() == null
            ? null
            : shape.apply(
                SchemaChoice.of(options.getOutputSchema(), options.getOutputSchemaFile()));
    if (contract == null && options.getOutputSchemaFile() != null) {
      throw new IllegalArgumentException("--outputSchemaFile needs --outputSchema, its contract");
    }
    if (contract != null && options.getSql() == null && options.getTransform() == null) {
      throw new IllegalArgumentException(
          "--outputSchema is the contract of a transform's rows: give --sql or --transform");
    }
    if (needsContract
        && contract == null
        && (options.getSql() != null || options.getTransform() != null)) {
      throw new IllegalArgumentException(
          "a transform into a lake table needs --outputSchema, the contract of its rows (a schema"
              + " of schemas/, e.g. OrderAmount): the table's columns are a contract, held to"
              + " the same compatibility rules as the input's");
    }
    if (options.getSql() != null && options.getTransform() != null) {
      throw new IllegalArgumentException("give --sql or --transform, not both");
    }
    List<String> lookupOptions = options.getLookup() == null ? List.of() : options.getLookup();
    if (options.getSql() == null && options.getTransform() == null) {
      if (!lookupOptions.isEmpty()
          || options.getAllowedLateness() != null
          || options.getLookupRefresh() != null) {
        throw new IllegalArgumentException(
            "--lookup, --lookupRefresh and --allowedLateness belong to a transform: give --sql or"
                + " --transform");
      }
      return null;
    }
    Duration refresh = Durations.parse("lookupRefresh", options.getLookupRefresh());
    if (refresh != null && lookupOptions.isEmpty()) {
      throw new IllegalArgumentException(
          "--lookupRefresh reads the --lookup tables again: give --lookup=<name>=jdbc:<table>");
    }
    TransformSpec spec =
        options.getSql() != null
            ? TransformSpec.ofSql(options.getSql())
            : TransformSpec.load(options.getTransform());
    if (!lookupOptions.isEmpty() && database == null) {
      throw new IllegalArgumentException(
          "--lookup reads the pipeline's database, and this pipeline has none");
    }
    List<JdbcLookupTable> lookups =
        lookupOptions.stream().map(o -> JdbcLookupTable.describe(database, o.strip())).toList();
    Map<String, org.apache.beam.sdk.schemas.Schema> schemas = new LinkedHashMap<>();
    for (JdbcLookupTable lookup : lookups) {
      // Read by key, a lookup's columns are nullable (a LEFT JOIN's missing match).
      org.apache.beam.sdk.schemas.Schema rows =
          refresh == null ? lookup.schema() : RefreshedLookup.nullable(lookup.schema());
      if (schemas.put(lookup.name(), rows) != null) {
        throw new IllegalArgumentException("--lookup names " + lookup.name() + " twice");
      }
    }
    RecordTransform steps = RecordTransform.compile(spec, input, schemas, decimals, contract);
    if (refresh != null) {
      // Each join of a lookup must be one Beam SQL can answer by key: checked now.
      for (RecordTransform.Compiled step : steps.steps()) {
        Set<String> joined = new LinkedHashSet<>(step.query().tables());
        joined.retainAll(schemas.keySet());
        if (!joined.isEmpty()) {
          step.query().refreshing(step.name(), joined);
        }
      }
    }
    return new Transform(
        steps,
        lookups,
        lookups.isEmpty() ? null : database,
        Durations.parse("allowedLateness", options.getAllowedLateness()),
        refresh);
  }

  /** The schema of the rows the sink receives. */
  public Schema output() {
    return steps.outputSchema();
  }

  /** The lookup tables as lineage inputs. */
  public List<LineageDataset> lookupDatasets() {
    return lookups.stream().map(l -> LineageDataset.postgres(database, l.table(), null)).toList();
  }

  /**
   * The sink's dataset with its column lineage: each column and the columns of the input (the
   * records as read) and of the lookups it is computed from.
   */
  public LineageDataset withColumnLineage(LineageDataset sink, LineageDataset input) {
    Map<String, LineageDataset> tables = new LinkedHashMap<>();
    tables.put("input", input);
    List<LineageDataset> datasets = lookupDatasets();
    for (int i = 0; i < lookups.size(); i++) {
      tables.put(lookups.get(i).name(), datasets.get(i));
    }
    Map<String, List<LineageDataset.Field>> columns = new LinkedHashMap<>();
    steps
        .columnLineage()
        .forEach(
            (column, sources) ->
                columns.put(
                    column,
                    sources.stream()
                        .map(
                            source -> {
                              int dot = source.indexOf('.');
                              LineageDataset from = tables.get(source.substring(0, dot));
                              return new LineageDataset.Field(
                                  from.namespace(), from.name(), source.substring(dot + 1));
                            })
                        .toList()));
    return sink.withColumnLineage(columns);
  }

  /** Runs the steps over {@code records}; what fails goes to {@code deadLetters}. */
  public PCollection<Traced<GenericRecord>> apply(
      PCollection<Traced<GenericRecord>> records,
      DeadLetterRouting.Collector deadLetters,
      String pipeline) {
    Map<String, PCollection<Row>> tables = new LinkedHashMap<>();
    Map<String, RefreshedLookup> refreshed = new LinkedHashMap<>();
    for (JdbcLookupTable lookup : lookups) {
      if (lookupRefresh != null) {
        refreshed.put(lookup.name(), lookup.refreshed(database, lookupRefresh, pipeline));
      } else {
        tables.put(lookup.name(), records.getPipeline().apply(lookup.read(database)));
      }
    }
    RecordTransform.Result result =
        steps.apply(records, tables, refreshed, pipeline, allowedLateness);
    deadLetters.add(result.deadLetters());
    return result.output();
  }
}

package dev.sluice.transforms.sql;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.extensions.sql.SqlTransform;
import org.apache.beam.sdk.extensions.sql.meta.BeamSqlTable;
import org.apache.beam.sdk.extensions.sql.meta.provider.ReadOnlyTableProvider;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.AfterPane;
import org.apache.beam.sdk.transforms.windowing.AfterWatermark;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;

/**
 * A run's transform, checked and typed before anything is read: each step's query as Beam SQL runs
 * it, and the Avro schema of the rows it gives. {@link #apply} runs the steps over the parsed
 * records: a record whose expression fails is a {@code transform} dead letter with its original
 * bytes and origin; a record a WHERE or filter leaves out counts as {@code filtered}; a record an
 * aggregate step takes in counts as {@code aggregated}.
 */
public final class RecordTransform implements Serializable {
  /** The filtered cause of records a WHERE or filter leaves out. */
  public static final String FILTERED_CAUSE = FailureReason.TRANSFORM.label();

  /**
   * One checked step.
   *
   * @param name the step's name
   * @param query its query
   * @param input the Avro schema of the records it receives (JSON)
   * @param output the Avro schema of the records it gives (JSON)
   * @param checked whether its rows must fit a contract, which they may fail (an enum symbol, a
   *     decimal's precision): such a row is a {@code transform} dead letter. Otherwise the schema
   *     is the rows' own, and a decimal too long for its column is left to the sink to reject.
   */
  public record Compiled(String name, SqlQuery query, String input, String output, boolean checked)
      implements Serializable {
    org.apache.avro.Schema inputSchema() {
      return new org.apache.avro.Schema.Parser().parse(input);
    }

    org.apache.avro.Schema outputSchema() {
      return new org.apache.avro.Schema.Parser().parse(output);
    }
  }

  private final List<Compiled> steps;

  private RecordTransform(List<Compiled> steps) {
    this.steps = List.copyOf(steps);
  }

  public List<Compiled> steps() {
    return steps;
  }

  /** The schema of the records the last step gives: what the sink receives. */
  public org.apache.avro.Schema outputSchema() {
    return steps.get(steps.size() - 1).outputSchema();
  }

  /**
   * The column lineage of the whole transform: each output column and the columns it is computed
   * from, as {@code table.column} where table is {@code input} (the records as read) or a lookup.
   */
  public Map<String, List<String>> columnLineage() {
    Map<String, List<String>> lineage = null;
    for (Compiled step : steps) {
      Map<String, List<String>> next = new LinkedHashMap<>();
      for (org.apache.avro.Schema.Field field : step.outputSchema().getFields()) {
        List<String> sources =
            step.query()
                .columns()
                .getOrDefault(field.name(), List.of(SqlQuery.INPUT + "." + field.name()));
        List<String> resolved = new ArrayList<>();
        for (String source : sources) {
          boolean fromInput = source.startsWith(SqlQuery.INPUT + ".");
          List<String> earlier =
              fromInput && lineage != null
                  ? lineage.getOrDefault(source.substring(SqlQuery.INPUT.length() + 1), List.of())
                  : List.of(source);
          earlier.stream().filter(s -> !resolved.contains(s)).forEach(resolved::add);
        }
        next.put(field.name(), List.copyOf(resolved));
      }
      lineage = next;
    }
    return lineage;
  }

  /** Whether every step only selects columns, renamed or not: one row per record, unchanged. */
  public boolean projectionOnly() {
    return steps.stream().allMatch(s -> s.query().projection());
  }

  /** Whether a step groups rows: then the sink receives aggregate rows, not records. */
  public boolean aggregates() {
    return steps.stream().anyMatch(s -> s.query().aggregates());
  }

  /**
   * Checks every step of {@code spec} over records of {@code input} and types its output.
   *
   * @param lookups the row schemas of the lookup tables the queries may join
   * @param decimals the precision and scale of the sink's decimal columns, by name
   * @param contract the Avro schema the last step's rows must fit, or null to derive it
   */
  public static RecordTransform compile(
      TransformSpec spec,
      org.apache.avro.Schema input,
      Map<String, Schema> lookups,
      Map<String, int[]> decimals,
      @Nullable org.apache.avro.Schema contract) {
    List<Compiled> compiled = new ArrayList<>();
    org.apache.avro.Schema records = input;
    for (int i = 0; i < spec.steps().size(); i++) {
      TransformSpec.Step step = spec.steps().get(i);
      boolean last = i == spec.steps().size() - 1;
      List<String> columns = records.getFields().stream().map(f -> f.name()).toList();
      SqlQuery query = SqlQuery.parse(step.name(), step.sql(columns));
      for (String table : query.tables()) {
        if (!table.equals(SqlQuery.INPUT) && !lookups.containsKey(table)) {
          throw new IllegalArgumentException(
              "transform step '"
                  + step.name()
                  + "' reads table "
                  + table
                  + ", which is neither input nor a lookup: give --lookup="
                  + table
                  + "=jdbc:<table>");
        }
      }
      Schema rows = outputRows(step.name(), query, records, lookups);
      org.apache.avro.Schema output;
      if (last && contract != null) {
        checkFits(step.name(), rows, contract);
        output = contract;
      } else {
        output = SqlRows.avroSchema(rows, step.name(), last ? decimals : Map.of());
      }
      compiled.add(
          new Compiled(
              step.name(), query, records.toString(), output.toString(), last && contract != null));
      records = output;
    }
    return new RecordTransform(compiled);
  }

  /** The row schema the query gives, found by planning it over empty inputs. */
  private static Schema outputRows(
      String step, SqlQuery query, org.apache.avro.Schema records, Map<String, Schema> lookups) {
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    Schema inputRows = SqlRows.rowSchema(records, true);
    PCollectionTuple tables =
        PCollectionTuple.of(
            new TupleTag<Row>(SqlQuery.INPUT),
            pipeline.apply("input", Create.empty(SchemaCoder.of(inputRows))));
    for (String table : query.tables().subList(1, query.tables().size())) {
      tables =
          tables.and(
              new TupleTag<Row>(table),
              pipeline.apply(table, Create.empty(SchemaCoder.of(lookups.get(table)))));
    }
    try {
      return tables.apply(SqlTransform.query(query.executed())).getSchema();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "transform step '" + step + "': " + rootMessage(e) + " (in: " + query.sql() + ")", e);
    }
  }

  private static String rootMessage(Throwable e) {
    String message = e.getMessage();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null) {
        message = t.getMessage();
      }
    }
    return message;
  }

  /** The rows must fill the contract: every field, of its type, null only where optional. */
  static void checkFits(String step, Schema rows, org.apache.avro.Schema contract) {
    List<String> problems = new ArrayList<>();
    Schema expected = SqlRows.rowSchema(contract, false);
    for (Schema.Field field : expected.getFields()) {
      if (!rows.hasField(field.getName())) {
        problems.add("column " + field.getName() + " is missing (field " + field.getName() + ")");
        continue;
      }
      Schema.FieldType got = rows.getField(field.getName()).getType();
      if (!fits(got, field.getType())) {
        problems.add(
            "column "
                + field.getName()
                + " is "
                + got.getTypeName()
                + " but field "
                + field.getName()
                + " needs "
                + field.getType().getTypeName());
      } else if (got.getNullable() && !field.getType().getNullable()) {
        problems.add(
            "column "
                + field.getName()
                + " may be null but field "
                + field.getName()
                + " is required");
      }
    }
    for (Schema.Field field : rows.getFields()) {
      if (!field.getName().equals(SqlRows.SOURCE) && !expected.hasField(field.getName())) {
        problems.add("column " + field.getName() + " is not a field of " + contract.getFullName());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "transform step '"
              + step
              + "' does not give rows of contract "
              + contract.getFullName()
              + ": "
              + String.join("; ", problems));
    }
  }

  private static boolean fits(Schema.FieldType got, Schema.FieldType wanted) {
    Schema.TypeName g = got.getTypeName();
    Schema.TypeName w = wanted.getTypeName();
    if (g == w) {
      return g != Schema.TypeName.LOGICAL_TYPE
          || got.getLogicalType().getIdentifier().equals(wanted.getLogicalType().getIdentifier());
    }
    return (w == Schema.TypeName.INT64
            && (g == Schema.TypeName.INT32
                || g == Schema.TypeName.INT16
                || g == Schema.TypeName.BYTE))
        || (w == Schema.TypeName.INT32 && (g == Schema.TypeName.INT16 || g == Schema.TypeName.BYTE))
        || (w == Schema.TypeName.DOUBLE && g == Schema.TypeName.FLOAT);
  }

  /**
   * Runs the steps over {@code records}; dead letters go to the result's second output.
   *
   * @param lookups the lookup tables, as rows of the schemas the transform was compiled with
   * @param pipeline the pipeline's name (counters and dead letters)
   * @param allowedLateness how late an event may still update its window (null: not at all)
   */
  public Result apply(
      PCollection<Traced<GenericRecord>> records,
      Map<String, PCollection<Row>> lookups,
      String pipeline,
      @Nullable Duration allowedLateness) {
    return apply(records, lookups, Map.of(), pipeline, allowedLateness);
  }

  /**
   * As {@link #apply(PCollection, Map, String, Duration)}, the lookups of {@code refreshed} read by
   * key as the steps join them, and read again every interval ({@link RefreshedLookup}).
   */
  public Result apply(
      PCollection<Traced<GenericRecord>> records,
      Map<String, PCollection<Row>> lookups,
      Map<String, RefreshedLookup> refreshed,
      String pipeline,
      @Nullable Duration allowedLateness) {
    List<PCollection<DeadLetter>> deadLetters = new ArrayList<>();
    PCollection<Traced<GenericRecord>> current = records;
    for (Compiled step : steps) {
      StepResult result =
          applyStep(
              current,
              step,
              lookups,
              refreshed,
              pipeline,
              allowedLateness == null ? Duration.ZERO : allowedLateness);
      current = result.output();
      deadLetters.addAll(result.deadLetters());
    }
    PCollection<DeadLetter> all =
        deadLetters.isEmpty()
            ? records
                .getPipeline()
                .apply("NoTransformDeadLetters", Create.empty(DeadLetters.coder()))
            : PCollectionList.of(
                    deadLetters.stream()
                        .map(
                            d ->
                                d.apply(d.getName() + ".Global", DeadLetterRouting.globalWindow())
                                    .setCoder(DeadLetters.coder()))
                        .toList())
                .apply("TransformDeadLetters", Flatten.pCollections());
    return new Result(current, all);
  }

  /** The transformed records and the records that failed a step. */
  public record Result(
      PCollection<Traced<GenericRecord>> output, PCollection<DeadLetter> deadLetters) {}

  private record StepResult(
      PCollection<Traced<GenericRecord>> output, List<PCollection<DeadLetter>> deadLetters) {}

  private static StepResult applyStep(
      PCollection<Traced<GenericRecord>> records,
      Compiled step,
      Map<String, PCollection<Row>> lookups,
      Map<String, RefreshedLookup> refreshed,
      String pipeline,
      Duration allowedLateness) {
    String prefix = "Transform." + step.name();
    List<PCollection<DeadLetter>> deadLetters = new ArrayList<>();
    SqlQuery.Window window = step.query().window();
    if (window != null) {
      // Fires when the watermark passes a window's end, then again for each late event, each pane
      // holding every event so far: a late firing upserts the group's whole row again.
      records =
          records.apply(
              prefix + ".Trigger",
              Window.<Traced<GenericRecord>>configure()
                  .triggering(
                      AfterWatermark.pastEndOfWindow()
                          .withLateFirings(AfterPane.elementCountAtLeast(1)))
                  .withAllowedLateness(allowedLateness)
                  // No empty on-time pane (Flink made one: a group row of no events).
                  .withOnTimeBehavior(Window.OnTimeBehavior.FIRE_IF_NON_EMPTY)
                  .accumulatingFiredPanes());
      if (records.isBounded() == PCollection.IsBounded.UNBOUNDED) {
        TooLate tooLate =
            new TooLate(pipeline, step.name(), window, allowedLateness.getMillis(), step.input());
        PCollectionTuple judged = records.apply(prefix + ".TooLate", tooLate);
        records = judged.get(tooLate.onTime);
        deadLetters.add(judged.get(tooLate.late));
      }
    }
    // An aggregate reads nullable columns (see rowSchema); its output is typed as planned over
    // the contract's own nullability.
    Schema inputRows = SqlRows.rowSchema(step.inputSchema(), true, step.query().aggregates());
    PCollection<Row> rows =
        records
            .apply(prefix + ".ToRows", ParDo.of(new ToRowFn(pipeline, step, inputRows)))
            .setRowSchema(inputRows);
    PCollectionTuple tables = PCollectionTuple.of(new TupleTag<Row>(SqlQuery.INPUT), rows);
    Set<String> byKey = new LinkedHashSet<>();
    for (String table : step.query().tables().subList(1, step.query().tables().size())) {
      if (refreshed.containsKey(table)) {
        byKey.add(table);
      } else {
        tables = tables.and(new TupleTag<Row>(table), lookups.get(table));
      }
    }
    CaptureErrors errors = new CaptureErrors();
    SqlTransform sql;
    if (byKey.isEmpty()) {
      sql = SqlTransform.query(step.query().executed());
    } else {
      SqlQuery.Refreshing refreshing = step.query().refreshing(step.name(), byKey);
      Map<String, BeamSqlTable> seekable = new LinkedHashMap<>();
      for (String table : byKey) {
        seekable.put(table, refreshed.get(table).outer(refreshing.outer().contains(table)));
      }
      sql =
          SqlTransform.query(refreshing.executed())
              .withTableProvider(
                  SqlQuery.LOOKUPS, new ReadOnlyTableProvider(SqlQuery.LOOKUPS, seekable));
    }
    PCollection<Row> out = tables.apply(prefix, sql.withErrorsTransformer(errors));
    PCollection<Traced<GenericRecord>> converted;
    if (step.checked()) {
      TupleTag<Traced<GenericRecord>> fit = new TupleTag<>() {};
      TupleTag<DeadLetter> failed = new TupleTag<>() {};
      PCollectionTuple back =
          out.apply(
              prefix + ".FromRows",
              ParDo.of(new CheckedFromRowFn(pipeline, step, fit, failed))
                  .withOutputTags(fit, TupleTagList.of(failed)));
      converted = back.get(fit);
      deadLetters.add(back.get(failed).setCoder(DeadLetters.coder()));
    } else {
      // One output: on Flink each further output of a step costs a copy of every row.
      converted = out.apply(prefix + ".FromRows", ParDo.of(new FromRowFn(pipeline, step)));
    }
    converted.setCoder(Traced.coder(AvroCoder.of(step.outputSchema())));
    for (int i = 0; i < errors.captured.size(); i++) {
      deadLetters.add(
          errors
              .captured
              .get(i)
              .apply(prefix + ".Errors" + (i == 0 ? "" : i), ParDo.of(new ErrorFn(pipeline, step)))
              .setCoder(DeadLetters.coder()));
    }
    return new StepResult(converted, deadLetters);
  }

  /** Keeps the rows Beam SQL reports as failed, for {@link ErrorFn}. */
  private static final class CaptureErrors extends PTransform<PCollection<Row>, PCollection<Row>> {
    private final transient List<PCollection<Row>> captured = new ArrayList<>();

    @Override
    public PCollection<Row> expand(PCollection<Row> input) {
      captured.add(input);
      return input;
    }
  }

  /** A record's source as the bytes of the hidden column. */
  static byte[] encode(SourceRecord source) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SourceRecord.SourceRecordCoder.of().encode(source, out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static SourceRecord decode(byte[] bytes) {
    try {
      return SourceRecord.SourceRecordCoder.of().decode(new ByteArrayInputStream(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The source of a row that no single record gave (an aggregate): named after the step, with the
   * row's values as its payload.
   */
  static SourceRecord sourceOf(String step, Row row) {
    Map<String, Object> values = new LinkedHashMap<>();
    for (Schema.Field field : row.getSchema().getFields()) {
      if (!field.getName().equals(SqlRows.SOURCE)) {
        values.put(field.getName(), row.getValue(field.getName()));
      }
    }
    return SourceRecord.of(
        "transform:" + step + "/" + values, values.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Makes each record a row with its source. A per-record step counts the record filtered until it
   * comes out as a row or a dead letter, which take it back ({@link FromRowFn}, {@link ErrorFn}):
   * what remains counted is what the WHERE left out. An aggregate step counts it aggregated, unless
   * it fails.
   */
  private static final class ToRowFn extends DoFn<Traced<GenericRecord>, Row> {
    private final Accounting accounting;
    private final boolean aggregates;
    private final Schema schema;
    private final String inputSchema;
    private transient org.apache.avro.Schema[] types;
    private transient long taken;

    ToRowFn(String pipeline, Compiled step, Schema schema) {
      this.accounting = Accounting.of(pipeline);
      this.aggregates = step.query().aggregates();
      this.schema = schema;
      this.inputSchema = step.input();
    }

    @Setup
    public void setup() {
      types = SqlRows.fieldTypes(new org.apache.avro.Schema.Parser().parse(inputSchema));
    }

    @StartBundle
    public void start() {
      taken = 0;
    }

    @ProcessElement
    public void process(@Element Traced<GenericRecord> record, OutputReceiver<Row> out) {
      taken++;
      out.output(SqlRows.toRow(record.value(), types, schema, encode(record.source())));
    }

    @FinishBundle
    public void finish() {
      count(accounting, aggregates, taken);
    }
  }

  private static void count(Accounting accounting, boolean aggregates, long delta) {
    if (aggregates) {
      accounting.aggregated(delta);
    } else {
      accounting.filteredPending(FILTERED_CAUSE, delta);
    }
  }

  /**
   * Makes each output row a record of the step's output schema, with its record's source (or, for
   * an aggregate row, a source named after the step), and takes back the filtered count of each
   * record that came out.
   */
  private abstract static class RowsToRecords<O> extends DoFn<Row, O> {
    private final Accounting accounting;
    private final boolean aggregates;
    final String step;
    private final String schemaJson;
    transient org.apache.avro.Schema schema;
    private transient int[] positions;
    private transient long given;

    RowsToRecords(String pipeline, Compiled step) {
      this.accounting = Accounting.of(pipeline);
      this.aggregates = step.query().aggregates();
      this.step = step.name();
      this.schemaJson = step.output();
    }

    @Setup
    public void setup() {
      schema = new org.apache.avro.Schema.Parser().parse(schemaJson);
    }

    @StartBundle
    public void start() {
      given = 0;
    }

    @FinishBundle
    public void finish() {
      if (!aggregates) {
        count(accounting, false, -given);
      }
    }

    SourceRecord source(Row row) {
      given++;
      return row.getSchema().hasField(SqlRows.SOURCE)
          ? decode(row.getBytes(SqlRows.SOURCE))
          : sourceOf(step, row);
    }

    GenericRecord record(Row row, boolean checked) {
      if (positions == null) {
        positions = SqlRows.positions(schema, row.getSchema());
      }
      return SqlRows.toRecord(row, schema, positions, checked);
    }
  }

  /** Rows of the step's own schema: they always fit. */
  private static final class FromRowFn extends RowsToRecords<Traced<GenericRecord>> {
    FromRowFn(String pipeline, Compiled step) {
      super(pipeline, step);
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Traced<GenericRecord>> out) {
      out.output(Traced.of(source(row), record(row, false)));
    }
  }

  /** Rows that must fit a contract: one that does not is a {@code transform} dead letter. */
  private static final class CheckedFromRowFn extends RowsToRecords<Traced<GenericRecord>> {
    private final DeadLetters deadLetters;
    private final TupleTag<Traced<GenericRecord>> fit;
    private final TupleTag<DeadLetter> failed;

    CheckedFromRowFn(
        String pipeline,
        Compiled step,
        TupleTag<Traced<GenericRecord>> fit,
        TupleTag<DeadLetter> failed) {
      super(pipeline, step);
      this.deadLetters = DeadLetters.forStep(pipeline, "Transform." + step.name());
      this.fit = fit;
      this.failed = failed;
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      SourceRecord source = source(row);
      GenericRecord record;
      try {
        record = record(row, true);
      } catch (RuntimeException e) {
        out.get(failed)
            .output(
                deadLetters.of(
                    source,
                    FailureReason.TRANSFORM,
                    new IllegalArgumentException(
                        "transform step '"
                            + step
                            + "' gave a row that does not fit "
                            + schema.getFullName()
                            + ": "
                            + e.getMessage(),
                        e)));
        return;
      }
      out.get(fit).output(Traced.of(source, record));
    }
  }

  /** Makes each row Beam SQL failed to evaluate a dead letter of the record it came from. */
  private static final class ErrorFn extends DoFn<Row, DeadLetter> {
    private final Accounting accounting;
    private final boolean aggregates;
    private final String step;
    private final DeadLetters deadLetters;

    ErrorFn(String pipeline, Compiled step) {
      this.accounting = Accounting.of(pipeline);
      this.aggregates = step.query().aggregates();
      this.step = step.name();
      this.deadLetters =
          DeadLetters.forStep(pipeline, "Transform." + step.name()).withSchema(step.inputSchema());
    }

    @ProcessElement
    public void process(@Element Row error, OutputReceiver<DeadLetter> out) {
      Row row = error.getRow("row");
      String message = error.getString("error");
      boolean ofRecord = row != null && row.getSchema().hasField(SqlRows.SOURCE);
      SourceRecord source = ofRecord ? decode(row.getBytes(SqlRows.SOURCE)) : sourceOf(step, row);
      if (ofRecord) {
        count(accounting, aggregates, -1);
      }
      out.output(
          deadLetters.of(
              source,
              FailureReason.TRANSFORM,
              new SqlExpressionException("transform step '" + step + "': " + message)));
    }
  }

  /** A SQL expression that failed on a record (a cast, a division by zero, a bad date). */
  public static final class SqlExpressionException extends RuntimeException {
    public SqlExpressionException(String message) {
      super(message, null, false, false);
    }
  }
}

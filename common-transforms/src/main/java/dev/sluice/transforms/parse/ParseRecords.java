package dev.sluice.transforms.parse;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.RecordFiltered;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.pii.Pii;
import dev.sluice.transforms.pii.PiiKeysSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.StringSet;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Parses source records (CSV lines or JSON lines) into records of a schema. Records that do not
 * decode, parse or fit the schema become dead letters with their original bytes; blank lines are
 * counted as filtered. Each parsed record keeps the source record it came from, so a later step
 * (e.g. a sink that rejects it) can still dead-letter the original bytes. Usage: {@code
 * raw.apply("Parse", ParseRecords.of(schema, InputFormat.CSV).withPipeline("files-to-lake"))}.
 */
@AutoValue
public abstract class ParseRecords
    extends PTransform<PCollection<SourceRecord>, Result<Traced<GenericRecord>>> {
  /** The step name dead letters of this transform carry. */
  public static final String STEP = "Parse";

  abstract Schema schema();

  abstract InputFormat format();

  abstract @Nullable String pipeline();

  abstract @Nullable Integer writerVersion();

  abstract @Nullable ChangeEvents changes();

  abstract SchemaChanges.Policy onSchemaChange();

  abstract @Nullable PiiKeysSource piiKeys();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSchema(Schema schema);

    abstract Builder setFormat(InputFormat format);

    abstract Builder setPipeline(@Nullable String pipeline);

    abstract Builder setWriterVersion(@Nullable Integer version);

    abstract Builder setChanges(@Nullable ChangeEvents changes);

    abstract Builder setOnSchemaChange(SchemaChanges.Policy policy);

    abstract Builder setPiiKeys(@Nullable PiiKeysSource keys);

    abstract ParseRecords build();
  }

  public static ParseRecords of(Schema schema, InputFormat format) {
    checkArgument(schema != null, "schema must not be null");
    checkArgument(format != null, "format must not be null");
    return new AutoValue_ParseRecords.Builder()
        .setSchema(schema)
        .setFormat(format)
        .setOnSchemaChange(SchemaChanges.Policy.dead_letter)
        .build();
  }

  /**
   * What a field the contract lacks does: dead-letter its record (the default), stop the run, or
   * (with an {@link SchemaChanges#open open} schema) ride along to a sink that adds it as a column.
   * Each new field is reported once per worker: a log line naming it, its type and the first
   * origin, and the {@link SchemaChanges#METRIC} string set.
   */
  public ParseRecords withSchemaChanges(SchemaChanges.Policy policy) {
    checkArgument(policy != null, "policy must not be null");
    checkArgument(
        (policy == SchemaChanges.Policy.add_columns) == SchemaChanges.isOpen(schema()),
        "add_columns needs an open schema (SchemaChanges.open), and only it");
    return toBuilder().setOnSchemaChange(policy).build();
  }

  /**
   * Applies the schema's personal-data policies ({@code sluice.pii}) to each parsed record with
   * these keys, so that rules, transform and sink see tokens, hashes and masks, never the clear
   * values; the output is {@link Pii#published} (dropped fields left out). Required when the schema
   * declares policies: {@link #expand} refuses to parse personal data without keys.
   */
  public ParseRecords withPii(@Nullable PiiKeysSource keys) {
    return toBuilder().setPiiKeys(keys).build();
  }

  /** The schema of the records this step outputs: the parsed one, after its PII policies. */
  public Schema outputSchema() {
    return dev.sluice.schemas.PiiPolicy.published(schema());
  }

  /** The pipeline whose counters and dead letters this step reports under. */
  public ParseRecords withPipeline(String pipeline) {
    checkArgument(
        pipeline != null && !pipeline.isBlank(), "pipeline must be a name, but was %s", pipeline);
    return toBuilder().setPipeline(pipeline).build();
  }

  /** Plain Avro binary values were written with this released version (default: the current). */
  public ParseRecords withWriterVersion(@Nullable Integer version) {
    if (version != null) {
      RecordParser.of(schema(), format()).withWriterVersion(version);
    }
    return toBuilder().setWriterVersion(version).build();
  }

  /**
   * Parses Debezium change events ({@link InputFormat#DEBEZIUM}) into replica records of the schema
   * (its fields, the source position and the deleted flag): see {@link ChangeEvents}.
   */
  public static ParseRecords changes(Schema contract, ChangeEvents changes) {
    checkArgument(changes != null, "changes must not be null");
    return of(contract, InputFormat.DEBEZIUM).toBuilder().setChanges(changes).build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("schema", schema().getFullName()))
        .add(DisplayData.item("format", format().name()))
        .addIfNotNull(DisplayData.item("writerVersion", writerVersion()));
  }

  @Override
  public Result<Traced<GenericRecord>> expand(PCollection<SourceRecord> input) {
    checkArgument(pipeline() != null, "ParseRecords needs withPipeline(name)");
    Schema schema = schema();
    InputFormat format = format();
    String pipeline = pipeline();
    Integer writerVersion = writerVersion();
    TupleTag<Traced<GenericRecord>> parsed = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    DeadLetters deadLetters = DeadLetters.forStep(pipeline, STEP).withSchema(schema);
    RecordParser parser =
        changes() != null
            ? RecordParser.ofChanges(schema, changes())
            : writerVersion == null
                ? RecordParser.of(schema, format)
                : RecordParser.of(schema, format).withWriterVersion(writerVersion);
    Pii pii = Pii.of(parser.schema(), piiKeys());
    PCollectionTuple out =
        input.apply(
            "ParseLines",
            ParDo.of(
                    new ParseFn(
                        parser,
                        Accounting.of(pipeline),
                        deadLetters,
                        parsed,
                        failed,
                        onSchemaChange(),
                        pii))
                .withOutputTags(parsed, TupleTagList.of(failed)));
    out.get(parsed)
        .setCoder(Traced.coder(AvroCoder.of(pii == null ? parser.schema() : pii.published())));
    out.get(failed).setCoder(DeadLetters.coder());
    return Result.of(out, parsed, failed);
  }

  static final class ParseFn extends DoFn<SourceRecord, Traced<GenericRecord>> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ParseFn.class);
    private final RecordParser parser;
    private final Accounting accounting;
    private final DeadLetters deadLetters;
    private final TupleTag<Traced<GenericRecord>> parsed;
    private final TupleTag<DeadLetter> failed;
    private final SchemaChanges.Policy onSchemaChange;
    private final Counter changed;
    private final StringSet changes;
    private final @Nullable Pii pii;
    private transient Set<String> loggedFiltered;
    private transient Set<String> reportedChanges;

    ParseFn(
        RecordParser parser,
        Accounting accounting,
        DeadLetters deadLetters,
        TupleTag<Traced<GenericRecord>> parsed,
        TupleTag<DeadLetter> failed,
        SchemaChanges.Policy onSchemaChange,
        @Nullable Pii pii) {
      this.onSchemaChange = onSchemaChange;
      this.pii = pii;
      this.changed = Metrics.counter(accounting.namespace(), SchemaChanges.CHANGED_RECORDS);
      this.changes = Metrics.stringSet(accounting.namespace(), SchemaChanges.METRIC);
      this.parser = parser;
      this.accounting = accounting;
      this.deadLetters = deadLetters;
      this.parsed = parsed;
      this.failed = failed;
    }

    @Setup
    public void setup() {
      if (pii != null) {
        // A keyset that cannot be read is the run's fault, not the records': fail here, loudly.
        pii.keys().keys();
      }
      loggedFiltered = new HashSet<>();
      reportedChanges = new HashSet<>();
    }

    /** Counts a record carrying new fields, and reports each field the first time it is seen. */
    private void report(SourceRecord record, List<SchemaChanges.NewField> fields) {
      changed.inc();
      for (SchemaChanges.NewField field : fields) {
        if (reportedChanges.add(field.name())) {
          SchemaChanges.Change change =
              new SchemaChanges.Change(field.name(), field.type(), record.origin());
          changes.add(change.metric());
          LOG.warn(
              "schema change: {}; --onSchemaChange={}: {}",
              change.describe(parser.schema().getName()),
              onSchemaChange,
              switch (onSchemaChange) {
                case fail -> "the run stops";
                case dead_letter -> "its records are dead letters (reason schema)";
                case add_columns ->
                    field.scalar()
                        ? "added as a nullable column"
                        : "not addable, its records are dead letters (reason schema)";
              });
        }
      }
    }

    @ProcessElement
    public void process(@Element SourceRecord record, MultiOutputReceiver out) {
      if (RecordParser.isBlank(record.payload())) {
        accounting.filtered(parser.emptyCause());
        return;
      }
      try {
        GenericRecord value = parser.parse(record);
        if (onSchemaChange == SchemaChanges.Policy.add_columns
            && value.get(SchemaChanges.EXTRA) != null) {
          List<SchemaChanges.NewField> fields = new ArrayList<>();
          SchemaChanges.extras(value)
              .forEach(
                  (n, v) -> fields.add(new SchemaChanges.NewField(n, SchemaChanges.inferType(v))));
          report(record, fields);
        }
        out.get(parsed).output(Traced.of(record, pii == null ? value : pii.apply(value)));
      } catch (SchemaChanges.SchemaChangeException e) {
        report(record, e.fields());
        if (onSchemaChange == SchemaChanges.Policy.fail && !e.fields().isEmpty()) {
          SchemaChanges.NewField first = e.fields().get(0);
          throw SchemaChanges.stop(
              SchemaChanges.failure(
                  new SchemaChanges.Change(first.name(), first.type(), record.origin()),
                  parser.schema().getName()));
        }
        out.get(failed).output(deadLetters.of(record, e));
      } catch (RecordFiltered e) {
        accounting.filtered(e.cause());
        if (loggedFiltered.add(e.cause())) {
          LOG.warn(
              "{} ({}): {}; counted filtered as {}",
              record.origin(),
              STEP,
              e.getMessage(),
              e.cause());
        }
      } catch (RecordException e) {
        out.get(failed).output(deadLetters.of(record, e));
      } catch (RuntimeException e) {
        out.get(failed).output(deadLetters.of(record, FailureReason.TRANSFORM, e));
      }
    }
  }
}

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
import java.util.HashSet;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
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

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSchema(Schema schema);

    abstract Builder setFormat(InputFormat format);

    abstract Builder setPipeline(@Nullable String pipeline);

    abstract Builder setWriterVersion(@Nullable Integer version);

    abstract Builder setChanges(@Nullable ChangeEvents changes);

    abstract ParseRecords build();
  }

  public static ParseRecords of(Schema schema, InputFormat format) {
    checkArgument(schema != null, "schema must not be null");
    checkArgument(format != null, "format must not be null");
    return new AutoValue_ParseRecords.Builder().setSchema(schema).setFormat(format).build();
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
    PCollectionTuple out =
        input.apply(
            "ParseLines",
            ParDo.of(new ParseFn(parser, Accounting.of(pipeline), deadLetters, parsed, failed))
                .withOutputTags(parsed, TupleTagList.of(failed)));
    out.get(parsed).setCoder(Traced.coder(AvroCoder.of(parser.schema())));
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
    private transient Set<String> loggedFiltered;

    ParseFn(
        RecordParser parser,
        Accounting accounting,
        DeadLetters deadLetters,
        TupleTag<Traced<GenericRecord>> parsed,
        TupleTag<DeadLetter> failed) {
      this.parser = parser;
      this.accounting = accounting;
      this.deadLetters = deadLetters;
      this.parsed = parsed;
      this.failed = failed;
    }

    @Setup
    public void setup() {
      loggedFiltered = new HashSet<>();
    }

    @ProcessElement
    public void process(@Element SourceRecord record, MultiOutputReceiver out) {
      if (RecordParser.isBlank(record.payload())) {
        accounting.filtered(parser.emptyCause());
        return;
      }
      try {
        out.get(parsed).output(Traced.of(record, parser.parse(record)));
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

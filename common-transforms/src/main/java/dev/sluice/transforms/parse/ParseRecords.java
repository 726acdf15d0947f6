package dev.sluice.transforms.parse;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetters;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Parses source records (CSV lines or JSON lines) into records of a schema. Records that do not
 * decode, parse or fit the schema become dead letters with their original bytes; blank lines are
 * counted as filtered. Each parsed record keeps the source record it came from, so a later step
 * (e.g. a sink that rejects it) can still dead-letter the original bytes. Usage: {@code
 * raw.apply("Parse", ParseRecords.of(schema, InputFormat.CSV).forPipeline("files-to-lake"))}.
 */
public final class ParseRecords
    extends PTransform<PCollection<SourceRecord>, Result<KV<SourceRecord, GenericRecord>>> {
  private final Schema schema;
  private final InputFormat format;
  private final String pipeline;
  private final Integer writerVersion;

  /** The step name dead letters of this transform carry. */
  public static final String STEP = "Parse";

  private ParseRecords(Schema schema, InputFormat format, String pipeline, Integer writerVersion) {
    super(STEP);
    this.schema = schema;
    this.format = format;
    this.pipeline = pipeline;
    this.writerVersion = writerVersion;
  }

  public static ParseRecords of(Schema schema, InputFormat format) {
    checkArgument(schema != null, "schema must not be null");
    checkArgument(format != null, "format must not be null");
    return new ParseRecords(schema, format, null, null);
  }

  /** The pipeline whose counters and dead letters this step reports under. */
  public ParseRecords forPipeline(String pipeline) {
    checkArgument(
        pipeline != null && !pipeline.isBlank(), "pipeline must be a name, but was %s", pipeline);
    return new ParseRecords(schema, format, pipeline, writerVersion);
  }

  /** Plain Avro binary values were written with this released version (default: the current). */
  public ParseRecords withWriterVersion(Integer version) {
    if (version != null) {
      RecordParser.of(schema, format).withWriterVersion(version);
    }
    return new ParseRecords(schema, format, pipeline, version);
  }

  @Override
  public Result<KV<SourceRecord, GenericRecord>> expand(PCollection<SourceRecord> input) {
    checkArgument(pipeline != null, "ParseRecords needs forPipeline(name)");
    TupleTag<KV<SourceRecord, GenericRecord>> parsed = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    DeadLetters deadLetters = DeadLetters.forStep(pipeline, STEP).withSchema(schema);
    PCollectionTuple out =
        input.apply(
            "ParseLines",
            ParDo.of(
                    new ParseFn(
                        writerVersion == null
                            ? RecordParser.of(schema, format)
                            : RecordParser.of(schema, format).withWriterVersion(writerVersion),
                        Accounting.of(pipeline),
                        deadLetters,
                        parsed,
                        failed))
                .withOutputTags(parsed, TupleTagList.of(failed)));
    out.get(parsed).setCoder(KvCoder.of(SourceRecord.SourceRecordCoder.of(), AvroCoder.of(schema)));
    out.get(failed).setCoder(DeadLetters.coder());
    return Result.of(out, parsed, failed);
  }

  /** The parsed records alone, without the source records they came from. */
  public static PTransform<PCollection<KV<SourceRecord, GenericRecord>>, PCollection<GenericRecord>>
      records(Schema schema) {
    return new PTransform<>("Records") {
      @Override
      public PCollection<GenericRecord> expand(PCollection<KV<SourceRecord, GenericRecord>> in) {
        return in.apply(Values.create()).setCoder(AvroCoder.of(schema));
      }
    };
  }

  static final class ParseFn extends DoFn<SourceRecord, KV<SourceRecord, GenericRecord>> {
    private final RecordParser parser;
    private final Accounting accounting;
    private final DeadLetters deadLetters;
    private final TupleTag<KV<SourceRecord, GenericRecord>> parsed;
    private final TupleTag<DeadLetter> failed;

    ParseFn(
        RecordParser parser,
        Accounting accounting,
        DeadLetters deadLetters,
        TupleTag<KV<SourceRecord, GenericRecord>> parsed,
        TupleTag<DeadLetter> failed) {
      this.parser = parser;
      this.accounting = accounting;
      this.deadLetters = deadLetters;
      this.parsed = parsed;
      this.failed = failed;
    }

    @ProcessElement
    public void process(@Element SourceRecord record, MultiOutputReceiver out) {
      if (RecordParser.isBlank(record.payload())) {
        accounting.filtered("blank");
        return;
      }
      try {
        out.get(parsed).output(KV.of(record, parser.parse(record)));
      } catch (RecordException e) {
        out.get(failed).output(deadLetters.of(record, e));
      } catch (RuntimeException e) {
        out.get(failed).output(deadLetters.of(record, FailureReason.TRANSFORM, e));
      }
    }
  }
}

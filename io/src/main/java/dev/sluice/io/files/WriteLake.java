package dev.sluice.io.files;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.AvroTypes;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.extensions.avro.io.AvroIO;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.WriteFilesResult;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes records as Avro files under {@code <output>/dt=<yyyy-MM-dd>/}, partitioned by the UTC date
 * of a timestamp or date field. Names are deterministic ({@code part-00000-of-00001.avro} for a
 * bounded run), so rerunning the same input replaces its files rather than adding copies. Each
 * record handed to the files is counted as written.
 */
public final class WriteLake
    extends PTransform<PCollection<GenericRecord>, WriteFilesResult<String>> {
  /** Partition of records whose partition field is null (Hive's convention). */
  public static final String NULL_PARTITION = "dt=__HIVE_DEFAULT_PARTITION__";

  private final String output;
  private final Schema schema;
  private final String partitionField;
  private final int numShards;
  private final String pipeline;
  private final String lineage;

  private WriteLake(
      String output,
      Schema schema,
      String partitionField,
      int numShards,
      String pipeline,
      String lineage) {
    this.output = output;
    this.schema = schema;
    this.partitionField = partitionField;
    this.numShards = numShards;
    this.pipeline = pipeline;
    this.lineage = lineage;
  }

  public static WriteLake to(String output, Schema schema, String pipeline) {
    checkArgument(
        output != null && !output.isBlank(), "output must be a directory, but was %s", output);
    checkArgument(schema != null, "schema must not be null");
    return new WriteLake(output, schema, null, 1, pipeline, output);
  }

  /** Partitions by the date of {@code field}, which must be a timestamp or date field. */
  public WriteLake partitionedBy(String field) {
    checkPartitionField(schema, field);
    return new WriteLake(output, schema, field, numShards, pipeline, lineage);
  }

  /** Files per partition (and per window when streaming). */
  public WriteLake withNumShards(int numShards) {
    checkArgument(numShards > 0, "numShards must be > 0, but was %s", numShards);
    return new WriteLake(output, schema, partitionField, numShards, pipeline, lineage);
  }

  /**
   * Files written to a staging directory and published elsewhere afterwards: lineage names where
   * readers find them, not the staging directory.
   */
  public WriteLake publishedAt(String location) {
    return new WriteLake(output, schema, partitionField, numShards, pipeline, location);
  }

  /** Fails, naming the field and the schema, unless {@code field} is a timestamp or date field. */
  public static void checkPartitionField(Schema schema, String field) {
    Schema.Field f = schema.getField(field);
    checkArgument(
        f != null,
        "partition field '%s' is not a field of schema %s; fields: %s",
        field,
        schema.getName(),
        schema.getFields().stream().map(Schema.Field::name).toList());
    checkArgument(
        dateKind(f.schema()) != null,
        "partition field '%s' of schema %s must be a timestamp or date, but is %s",
        field,
        schema.getName(),
        f.schema());
  }

  private static LogicalType dateKind(Schema schema) {
    Schema type = AvroTypes.nonNull(schema);
    LogicalType logical = type.getLogicalType();
    return logical instanceof LogicalTypes.TimestampMillis
            || logical instanceof LogicalTypes.TimestampMicros
            || logical instanceof LogicalTypes.Date
        ? logical
        : null;
  }

  @Override
  public WriteFilesResult<String> expand(PCollection<GenericRecord> records) {
    checkArgument(partitionField != null, "WriteLake needs partitionedBy(field)");
    LogicalType kind = dateKind(schema.getField(partitionField).schema());
    return records
        .apply("CountWritten", ParDo.of(new CountFn(Accounting.of(pipeline))))
        .setCoder(AvroCoder.of(schema))
        .apply("Lineage", ReportLineage.sink("file", lineage))
        .apply(
            "WriteAvro",
            FileIO.<String, GenericRecord>writeDynamic()
                .by(new PartitionOf(partitionField, kind))
                .withDestinationCoder(StringUtf8Coder.of())
                .via(AvroIO.sink(schema))
                .to(output)
                .withNaming(partition -> FileIO.Write.defaultNaming(partition + "/part", ".avro"))
                .withNumShards(numShards));
  }

  static final class CountFn extends DoFn<GenericRecord, GenericRecord> {
    private final Accounting accounting;

    CountFn(Accounting accounting) {
      this.accounting = accounting;
    }

    @ProcessElement
    public void process(@Element GenericRecord record, OutputReceiver<GenericRecord> out) {
      accounting.written().inc();
      out.output(record);
    }
  }

  /** {@code dt=yyyy-MM-dd} of the record's partition field, in UTC. */
  static final class PartitionOf implements SerializableFunction<GenericRecord, String> {
    private final String field;
    private final String kind;

    PartitionOf(String field, LogicalType kind) {
      this.field = field;
      this.kind = kind.getName();
    }

    @Override
    public String apply(GenericRecord record) {
      Object value = record.get(field);
      if (value == null) {
        return NULL_PARTITION;
      }
      long raw = ((Number) value).longValue();
      LocalDate date =
          switch (kind) {
            case "timestamp-millis" ->
                Instant.ofEpochMilli(raw).atZone(ZoneOffset.UTC).toLocalDate();
            case "timestamp-micros" ->
                Instant.ofEpochSecond(Math.floorDiv(raw, 1_000_000L))
                    .atZone(ZoneOffset.UTC)
                    .toLocalDate();
            default -> LocalDate.ofEpochDay(raw);
          };
      return "dt=" + date;
    }
  }
}

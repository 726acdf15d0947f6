package dev.sluice.io.files;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import javax.annotation.Nullable;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.extensions.avro.io.AvroIO;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.WriteFilesResult;
import org.apache.beam.sdk.transforms.Contextful;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes records as Avro files under {@code <output>/dt=<yyyy-MM-dd>/}, partitioned by the UTC date
 * of a timestamp or date field. Names are deterministic and belong to the input the records came
 * from ({@code part-<tag of the input>-00000-of-00001.avro} for a bounded run, see {@link
 * LakeNames}), so rerunning the same input replaces its own files rather than adding copies, and
 * loading another input into the same lake never touches them. Each record handed to the files is
 * counted as written.
 */
@AutoValue
public abstract class WriteLake
    extends PTransform<PCollection<Traced<GenericRecord>>, WriteFilesResult<String>> {
  /** Partition of records whose partition field is null (Hive's convention). */
  public static final String NULL_PARTITION = "dt=__HIVE_DEFAULT_PARTITION__";

  abstract String output();

  abstract Schema schema();

  abstract @Nullable String partitionField();

  abstract int numShards();

  abstract String pipeline();

  abstract String publishedLocation();

  abstract SerializableFunction<SourceRecord, String> fileStem();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setOutput(String output);

    abstract Builder setSchema(Schema schema);

    abstract Builder setPartitionField(@Nullable String field);

    abstract Builder setNumShards(int numShards);

    abstract Builder setPipeline(String pipeline);

    abstract Builder setPublishedLocation(String location);

    abstract Builder setFileStem(SerializableFunction<SourceRecord, String> stem);

    abstract WriteLake build();
  }

  public static WriteLake to(String output, Schema schema, String pipeline) {
    checkArgument(
        output != null && !output.isBlank(), "output must be a directory, but was %s", output);
    checkArgument(schema != null, "schema must not be null");
    return new AutoValue_WriteLake.Builder()
        .setOutput(output)
        .setSchema(schema)
        .setNumShards(1)
        .setPipeline(pipeline)
        .setPublishedLocation(output)
        .setFileStem(LakeNames::inputFileStem)
        .build();
  }

  /** Partitions by the date of {@code field}, which must be a timestamp or date field. */
  public WriteLake withPartitionField(String field) {
    checkPartitionField(schema(), field);
    return toBuilder().setPartitionField(field).build();
  }

  /**
   * Files per partition and input (and per window when streaming); default 1. 0 lets the runner
   * decide, as Beam's {@code FileIO} does: no grouping of the records before they are written, a
   * file per bundle and destination (bounded runs only; how many depends on how the runner cuts
   * bundles, which the Direct runner does finely).
   */
  public WriteLake withNumShards(int numShards) {
    checkArgument(numShards >= 0, "numShards must be >= 0, but was %s", numShards);
    return toBuilder().setNumShards(numShards).build();
  }

  /**
   * Files written somewhere and published elsewhere afterwards: lineage names where readers find
   * them, not where they were written.
   */
  public WriteLake withPublishedLocation(String location) {
    checkArgument(location != null && !location.isBlank(), "publishedLocation must be a directory");
    return toBuilder().setPublishedLocation(location).build();
  }

  /**
   * The stem of each record's file name, from the record's source (default: {@code part-<tag of its
   * input file>}, for records read from files).
   */
  public WriteLake withFileStem(SerializableFunction<SourceRecord, String> stem) {
    checkArgument(stem != null, "fileStem must not be null");
    return toBuilder().setFileStem(stem).build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("output", output()))
        .add(DisplayData.item("publishedTo", publishedLocation()))
        .add(DisplayData.item("schema", schema().getFullName()))
        .addIfNotNull(DisplayData.item("partitionField", partitionField()))
        .add(DisplayData.item("numShards", numShards()));
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

  /** The {@code dt=<date>} partition of records of {@code schema} by {@code field}. */
  static PartitionOf partitionOf(Schema schema, String field) {
    return new PartitionOf(field, dateKind(schema.getField(field).schema()));
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
  public WriteFilesResult<String> expand(PCollection<Traced<GenericRecord>> records) {
    checkArgument(partitionField() != null, "WriteLake needs withPartitionField(field)");
    LogicalType kind = dateKind(schema().getField(partitionField()).schema());
    return records
        .apply(
            "ToFiles",
            ParDo.of(
                new ToFileFn(
                    Accounting.of(pipeline()),
                    new PartitionOf(partitionField(), kind),
                    fileStem())))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), AvroCoder.of(schema())))
        .apply("Lineage", ReportLineage.sink("file", publishedLocation()))
        .apply(
            "WriteAvro",
            FileIO.<String, KV<String, GenericRecord>>writeDynamic()
                .by(KV::getKey)
                .withDestinationCoder(StringUtf8Coder.of())
                .via(Contextful.fn(KV::getValue), AvroIO.sink(schema()))
                .to(output())
                .withNaming(file -> FileIO.Write.defaultNaming(file, ".avro"))
                .withNumShards(numShards()));
  }

  /** Each record with its file, {@code dt=<date>/<stem>}; counted as written. */
  static final class ToFileFn extends DoFn<Traced<GenericRecord>, KV<String, GenericRecord>> {
    private final Accounting accounting;
    private final PartitionOf partition;
    private final SerializableFunction<SourceRecord, String> stem;

    ToFileFn(
        Accounting accounting,
        PartitionOf partition,
        SerializableFunction<SourceRecord, String> stem) {
      this.accounting = accounting;
      this.partition = partition;
      this.stem = stem;
    }

    @ProcessElement
    public void process(
        @Element Traced<GenericRecord> record, OutputReceiver<KV<String, GenericRecord>> out) {
      accounting.written().inc();
      GenericRecord value = record.value();
      out.output(KV.of(partition.apply(value) + "/" + stem.apply(record.source()), value));
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

package dev.sluice.pipelines.plan;

import dev.sluice.io.files.AvroFiles;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.ParquetFiles;
import dev.sluice.io.files.WriteDataFiles;
import dev.sluice.io.files.WriteLake;
import dev.sluice.io.iceberg.AddIcebergColumns;
import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.io.iceberg.IcebergFiles;
import dev.sluice.io.iceberg.WriteIcebergWindows;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import java.io.Serializable;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;

/**
 * Where and how a lake pipeline writes its files, as a plan's value.
 *
 * @param directory where the files are written (a run's staging directory, or the lake)
 * @param publishedAt where readers find them, for lineage
 * @param partitionField the timestamp or date field whose date partitions the files
 * @param numShards files per partition and input (0: the runner decides)
 * @param stem every file's name stem, or null to name files after each record's input file
 * @param catalog the catalog of the Iceberg table written, or null for a directory lake
 * @param table the Iceberg table written ({@code namespace.table}), or null for a directory lake
 * @param tableSchema the Iceberg schema (JSON) the table's data files are written with, or null
 * @param streaming the write of a watching run into the table, committed per window, or null
 * @param fileFormat a directory lake's data files: {@code avro} (also when null) or {@code parquet}
 * @param addColumns the step adding the table's columns for new fields ({@code
 *     --onSchemaChange=add_columns}), or null
 */
public record LakeTarget(
    String directory,
    String publishedAt,
    String partitionField,
    int numShards,
    @Nullable String stem,
    @Nullable IcebergCatalog catalog,
    @Nullable String table,
    @Nullable String tableSchema,
    @Nullable WriteIcebergWindows streaming,
    @Nullable String fileFormat,
    @Nullable AddIcebergColumns addColumns)
    implements Serializable {

  /** A directory lake. */
  public LakeTarget(
      String directory,
      String publishedAt,
      String partitionField,
      int numShards,
      @Nullable String stem) {
    this(
        directory,
        publishedAt,
        partitionField,
        numShards,
        stem,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /**
   * The same target, its files in {@code format} ({@code avro} or {@code parquet}); Parquet is
   * written by staged runs (a bounded run into a local lake) only.
   */
  public LakeTarget withFileFormat(String format) {
    if ("parquet".equals(format) && table == null && directory.equals(publishedAt)) {
      throw new IllegalArgumentException(
          "--fileFormat=parquet is written by bounded runs into a local lake: a watching run or"
              + " one into "
              + publishedAt
              + " writes Avro (or write an Iceberg table, --output=iceberg:<namespace>.<table>,"
              + " whose files are Parquet)");
    }
    return new LakeTarget(
        directory,
        publishedAt,
        partitionField,
        numShards,
        stem,
        catalog,
        table,
        tableSchema,
        streaming,
        format,
        addColumns);
  }

  /**
   * {@code records} with the table's columns added for the new fields they carry, under {@code
   * --onSchemaChange=add_columns} (a value that does not fit its column is a dead letter); as they
   * are otherwise.
   */
  public PCollection<Traced<GenericRecord>> withNewColumns(
      PCollection<Traced<GenericRecord>> records, DeadLetterRouting.Collector deadLetters) {
    if (addColumns == null) {
      return records;
    }
    Result<Traced<GenericRecord>> added = records.apply("AddColumns", addColumns);
    deadLetters.add(added.deadLetters());
    return added.output();
  }

  /**
   * The write of {@code schema}'s records; {@code pipeline} names its counters. A staged run (its
   * directory is not where its files are published) writes each bundle's records to files of their
   * own, listed for the publish step ({@link WriteDataFiles}): nothing is grouped or held in
   * memory. A run straight into the lake (watching, an object store) writes through Beam's {@code
   * FileIO}, {@code --numShards} files per partition and input.
   */
  public PTransform<PCollection<Traced<GenericRecord>>, ? extends POutput> transform(
      Schema schema, String pipeline, @Nullable String progress) {
    if (streaming != null) {
      return streaming;
    }
    WriteDataFiles perBundle = perBundle(schema, pipeline);
    if (perBundle != null) {
      return progress == null ? perBundle : perBundle.withProgressOf(progress);
    }
    WriteLake write =
        WriteLake.to(directory, schema, pipeline)
            .withPartitionField(partitionField)
            .withNumShards(numShards);
    String fixed = stem;
    return fixed == null ? write : write.withFileStem(r -> fixed);
  }

  /** Whether the run writes its files per bundle and lists them (a staged lake, or a table). */
  public boolean writesPerBundle() {
    return streaming == null && (table != null || !directory.equals(publishedAt));
  }

  private @Nullable WriteDataFiles perBundle(Schema schema, String pipeline) {
    String fixed = stem;
    if (table != null) {
      // Data files where the table keeps them, listed in the run's pending directory.
      IcebergFiles files =
          tableSchema == null
              ? IcebergFiles.of(catalog, table)
              : IcebergFiles.of(catalog, table)
                  .withSchema(org.apache.iceberg.SchemaParser.fromJson(tableSchema));
      WriteDataFiles write =
          WriteDataFiles.to(
              addColumns == null ? files : files.withAddColumns(),
              directory.replaceAll("/+$", "") + "/" + LakePublisher.FILE_LIST,
              pipeline,
              "iceberg:" + table);
      return fixed == null ? write : write.withStem(r -> fixed);
    }
    if (!directory.equals(publishedAt)) {
      WriteDataFiles write =
          WriteDataFiles.to(
              "parquet".equals(fileFormat)
                  ? ParquetFiles.in(directory, schema, partitionField)
                  : AvroFiles.in(directory, schema, partitionField),
              directory.replaceAll("/+$", "") + "/" + LakePublisher.FILE_LIST,
              pipeline,
              "file:" + publishedAt);
      return fixed == null ? write : write.withStem(r -> fixed);
    }
    return null;
  }
}

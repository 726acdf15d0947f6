package dev.sluice.io.files;

import dev.sluice.io.iceberg.IcebergRecords;
import dev.sluice.io.iceberg.IcebergTables;
import java.io.File;
import java.io.IOException;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.Files;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;

/**
 * Parquet data files of a local directory lake: {@code
 * <directory>/dt=<date>/<stem>-<uuid>.parquet}, partitioned as {@link AvroFiles} are. The columns
 * are the contract's with the types analysts' engines read natively (decimals as DECIMAL, instants
 * as TIMESTAMP in UTC, dates as DATE), written by Iceberg's generic Parquet writer
 * (snappy-compressed, with column statistics).
 */
public final class ParquetFiles implements FileSink {
  private final String directory;
  private final String schema;
  private final WriteLake.PartitionOf partitionOf;
  private transient IcebergRecords records;
  private transient org.apache.iceberg.Schema columns;

  private ParquetFiles(String directory, String schema, WriteLake.PartitionOf partitionOf) {
    this.directory = directory.endsWith("/") ? directory : directory + "/";
    this.schema = schema;
    this.partitionOf = partitionOf;
  }

  /**
   * Files of {@code schema}'s records under {@code directory} (a local path), by the date of {@code
   * field}.
   */
  public static ParquetFiles in(String directory, Schema schema, String field) {
    WriteLake.checkPartitionField(schema, field);
    if (directory.contains("://")) {
      throw new IllegalArgumentException(
          "Parquet files of a directory lake are written on a local disk, not to " + directory);
    }
    IcebergTables.schemaOf(schema);
    return new ParquetFiles(
        directory.replaceFirst("^file:", ""),
        schema.toString(),
        WriteLake.partitionOf(schema, field));
  }

  @Override
  public void setup() {
    columns = IcebergTables.schemaOf(new Schema.Parser().parse(schema));
    records = new IcebergRecords(columns);
  }

  @Override
  public String partition(GenericRecord record) {
    return partitionOf.apply(record);
  }

  @Override
  public OpenFile open(String partition, String stem) throws IOException {
    File file = new File(directory + partition + "/" + stem + "-" + UUID.randomUUID() + ".parquet");
    if (!file.getParentFile().isDirectory() && !file.getParentFile().mkdirs()) {
      throw new IOException("cannot create the folder of " + file);
    }
    FileAppender<Record> writer =
        Parquet.write(Files.localOutput(file))
            .schema(columns)
            .createWriterFunc(GenericParquetWriter::create)
            .overwrite()
            .build();
    return new OpenFile() {
      private long written;

      @Override
      public void write(GenericRecord record) {
        writer.add(records.convert(record));
        written++;
      }

      @Override
      public WrittenFile close() throws IOException {
        writer.close();
        return new WrittenFile(
            file.getAbsolutePath(), partition, stem, written, writer.length(), null);
      }
    };
  }
}

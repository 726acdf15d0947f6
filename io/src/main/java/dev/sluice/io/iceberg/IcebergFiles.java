package dev.sluice.io.iceberg;

import dev.sluice.io.files.FileSink;
import dev.sluice.io.files.WrittenFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SchemaParser;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;

/**
 * Parquet data files of an Iceberg table, written where the table keeps its data ({@code
 * <table>/data/<partition>/<stem>-<uuid>.parquet}) and invisible until a commit adds them (see
 * {@link IcebergCommit}). Each file's Iceberg description (partition, metrics) travels with it, so
 * the commit adds exactly what was written.
 */
public final class IcebergFiles implements FileSink {
  private final IcebergCatalog catalog;
  private final String table;
  private final @Nullable String schemaJson;
  private transient Catalog opened;
  private transient Table loaded;
  private transient Schema schema;
  private transient PartitionSpec spec;
  private transient IcebergRecords records;
  private transient InternalRecordWrapper wrapper;
  private transient PartitionKey key;
  private transient GenericRecord lastAvro;
  private transient Record lastRecord;

  private IcebergFiles(IcebergCatalog catalog, String table, @Nullable String schemaJson) {
    this.catalog = catalog;
    this.table = table;
    this.schemaJson = schemaJson;
  }

  /** Data files of {@code table} ({@code namespace.table}) of {@code catalog}. */
  public static IcebergFiles of(IcebergCatalog catalog, String table) {
    IcebergTables.identifier(table);
    return new IcebergFiles(catalog, table, null);
  }

  /**
   * The same files, written with {@code schema} (the table's with the columns the run's commit
   * adds, {@link IcebergTables.Planned}) instead of the table's current schema.
   */
  public IcebergFiles withSchema(Schema schema) {
    return new IcebergFiles(catalog, table, SchemaParser.toJson(schema));
  }

  @Override
  public void setup() {
    opened = catalog.open();
    loaded = opened.loadTable(TableIdentifier.parse(table));
    schema = schemaJson == null ? loaded.schema() : SchemaParser.fromJson(schemaJson);
    spec = loaded.spec();
    records = new IcebergRecords(schema);
    wrapper = new InternalRecordWrapper(schema.asStruct());
    key = new PartitionKey(spec, schema);
  }

  private Record convert(GenericRecord avro) {
    if (avro != lastAvro) {
      lastRecord = records.convert(avro);
      lastAvro = avro;
    }
    return lastRecord;
  }

  @Override
  public String partition(GenericRecord record) {
    key.partition(wrapper.wrap(convert(record)));
    return spec.isUnpartitioned() ? "" : spec.partitionToPath(key);
  }

  @Override
  public OpenFile open(String partition, String stem) throws IOException {
    PartitionKey partitionKey = key.copy();
    String location =
        loaded
            .locationProvider()
            .newDataLocation(spec, partitionKey, stem + "-" + UUID.randomUUID() + ".parquet");
    DataWriter<Record> writer =
        Parquet.writeData(loaded.io().newOutputFile(location))
            .forTable(loaded)
            .schema(schema)
            .withSpec(spec)
            .withPartition(spec.isUnpartitioned() ? null : partitionKey)
            .createWriterFunc(GenericParquetWriter::create)
            .overwrite()
            .build();
    return new OpenFile() {
      @Override
      public void write(GenericRecord record) {
        writer.write(convert(record));
      }

      @Override
      public WrittenFile close() throws IOException {
        writer.close();
        DataFile file = writer.toDataFile();
        return new WrittenFile(
            file.location(),
            partition,
            stem,
            file.recordCount(),
            file.fileSizeInBytes(),
            serialize(file));
      }
    };
  }

  static byte[] serialize(ContentFile<?> file) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(file);
    }
    return bytes.toByteArray();
  }

  @Override
  public void teardown() {
    if (opened instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // Closing the catalog's connections: nothing of the run depends on it any more.
        org.slf4j.LoggerFactory.getLogger(IcebergFiles.class)
            .warn("closing the catalog of {} failed: {}", table, e.toString());
      }
    }
  }
}

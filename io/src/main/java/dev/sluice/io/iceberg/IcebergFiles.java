package dev.sluice.io.iceberg;

import dev.sluice.io.files.FileSink;
import dev.sluice.io.files.WrittenFile;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.parse.SchemaChanges;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.Set;
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
  private final boolean addColumns;
  private transient Catalog opened;
  private transient Table loaded;
  private transient Schema schema;
  private transient PartitionSpec spec;
  private transient IcebergRecords records;
  private transient InternalRecordWrapper wrapper;
  private transient PartitionKey key;
  private transient GenericRecord lastAvro;
  private transient Record lastRecord;
  private transient int layout;

  private IcebergFiles(
      IcebergCatalog catalog, String table, @Nullable String schemaJson, boolean addColumns) {
    this.catalog = catalog;
    this.table = table;
    this.schemaJson = schemaJson;
    this.addColumns = addColumns;
  }

  /** Data files of {@code table} ({@code namespace.table}) of {@code catalog}. */
  public static IcebergFiles of(IcebergCatalog catalog, String table) {
    IcebergTables.identifier(table);
    return new IcebergFiles(catalog, table, null, false);
  }

  /**
   * The same files, written with {@code schema} (the table's with the columns the run's commit
   * adds, {@link IcebergTables.Planned}) instead of the table's current schema.
   */
  public IcebergFiles withSchema(Schema schema) {
    return new IcebergFiles(catalog, table, SchemaParser.toJson(schema), addColumns);
  }

  /**
   * The same files, following the table's columns: a record carrying a new field the schema lacks
   * ({@code --onSchemaChange=add_columns}, whose {@link AddIcebergColumns} step added the column
   * before the record came) makes the table's current schema the one new files are written with.
   */
  public IcebergFiles withAddColumns() {
    return new IcebergFiles(catalog, table, schemaJson, true);
  }

  @Override
  public void setup() {
    opened = catalog.open();
    loaded = opened.loadTable(TableIdentifier.parse(table));
    shape(
        IcebergTables.writing(
            loaded, schemaJson == null ? null : SchemaParser.fromJson(schemaJson)));
  }

  /** Writes new files with {@code schema}. */
  private void shape(Schema schema) {
    this.schema = schema;
    spec = loaded.spec();
    records = new IcebergRecords(schema);
    wrapper = new InternalRecordWrapper(schema.asStruct());
    key = new PartitionKey(spec, schema);
    lastAvro = null;
    lastRecord = null;
    layout++;
  }

  /**
   * Under add_columns, a record with a new field the schema lacks: the table (whose column was
   * added before the record came) gives the schema from now on.
   */
  private void follow(GenericRecord record) {
    if (!addColumns
        || !SchemaChanges.isOpen(record.getSchema())
        || record.get(SchemaChanges.EXTRA) == null) {
      return;
    }
    Set<String> names;
    try {
      names = SchemaChanges.extras(record).keySet();
    } catch (RecordException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (names.stream().allMatch(n -> schema.findField(n) != null)) {
      return;
    }
    // Read on a connection of its own: a long-lived one to an embedded SQLite catalog may go on
    // seeing the table as it was.
    Schema current;
    try {
      current = catalog.using(c -> c.loadTable(TableIdentifier.parse(table)).schema());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    for (String name : names) {
      if (current.findField(name) == null) {
        throw new IllegalStateException(
            "table " + table + " has no column '" + name + "' for a new field of a record");
      }
    }
    shape(current);
  }

  @Override
  public int layout() {
    return layout;
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
    follow(record);
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
    IcebergCatalog.closeQuietly(opened, table);
  }
}

package dev.sluice.io.iceberg;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.files.WriteDataFiles;
import dev.sluice.io.files.WrittenFile;
import dev.sluice.transforms.core.KafkaOrigin;
import dev.sluice.transforms.core.Tally;
import dev.sluice.transforms.core.Traced;
import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SchemaParser;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;

/**
 * Merges records into a keyed Iceberg table (format v2): per commit, the newest version of each key
 * (by a version field) replaces the table's row of that key only when it is newer, as the JDBC
 * sink's version guard does; an older version arriving late never replaces a newer one.
 *
 * <p>Merge on read: the winners are written as a Parquet data file per partition, and an equality
 * delete file on the key columns removes the rows they replace (in the partition each replaced row
 * is in). Both are added in one snapshot, whose delete files apply only to older data files, so
 * readers see the table before or after, never between, and keys never repeat. Readers need
 * Iceberg's delete semantics (an engine reading the table, not its Parquet files alone).
 *
 * <p>A bounded run's files are listed for the launcher's commit step (after the accounting check
 * and the quality gate); a stream commits each pane itself, with a commit id (a retried commit adds
 * nothing) and, given {@link WriteIcebergWindows.Positions}, the Kafka offsets its records end at.
 */
public final class MergeIcebergRows
    extends PTransform<PCollection<Traced<GenericRecord>>, PCollection<WrittenFile>> {
  /** Counted as filtered: an older version of a key than another record of the same commit. */
  public static final String SUPERSEDED = "superseded";

  /** Counted as filtered: a version the table holds already, or an older one. */
  public static final String STALE = "stale_version";

  /** Counted as filtered: a record that deletes its key (see {@link #withDeletes}). */
  public static final String DELETED = "deleted";

  /** The merge step's files (a bounded run's, listed for its commit step). */
  static final TupleTag<WrittenFile> FILES = new TupleTag<>("files") {};

  /**
   * What and how to merge.
   *
   * @param run letters and digits naming this run's files and commits
   * @param listIn where a bounded run lists its files for the commit step, or null to commit
   * @param positions the Kafka offsets a stream's commits record, or null
   * @param deletedField a boolean field that marks a record as a delete of its key, or null
   */
  record Spec(
      IcebergCatalog catalog,
      String table,
      @Nullable String schemaJson,
      List<String> keyFields,
      String versionField,
      String pipeline,
      String stem,
      String run,
      @Nullable String listIn,
      LinkedHashMap<String, String> summary,
      @Nullable WriteIcebergWindows.Positions positions,
      @Nullable String deletedField)
      implements Serializable {}

  private final Spec spec;

  private MergeIcebergRows(Spec spec) {
    this.spec = spec;
  }

  /**
   * A bounded run's merge into {@code table}: its files are listed under {@code listIn} for the
   * commit step.
   */
  public static MergeIcebergRows staged(
      IcebergCatalog catalog,
      String table,
      @Nullable String schemaJson,
      List<String> keyFields,
      String versionField,
      String pipeline,
      String stem,
      String listIn) {
    return create(
        catalog,
        table,
        schemaJson,
        keyFields,
        versionField,
        pipeline,
        stem,
        listIn,
        Map.of(),
        null);
  }

  /**
   * A stream's merge into {@code table}: each pane commits itself, with {@code summary} and the
   * offsets of {@code positions} (null: none).
   */
  public static MergeIcebergRows streaming(
      IcebergCatalog catalog,
      String table,
      @Nullable String schemaJson,
      List<String> keyFields,
      String versionField,
      String pipeline,
      String stem,
      Map<String, String> summary,
      @Nullable WriteIcebergWindows.Positions positions) {
    return create(
        catalog,
        table,
        schemaJson,
        keyFields,
        versionField,
        pipeline,
        stem,
        null,
        summary,
        positions);
  }

  private static MergeIcebergRows create(
      IcebergCatalog catalog,
      String table,
      @Nullable String schemaJson,
      List<String> keyFields,
      String versionField,
      String pipeline,
      String stem,
      @Nullable String listIn,
      Map<String, String> summary,
      @Nullable WriteIcebergWindows.Positions positions) {
    checkArgument(!keyFields.isEmpty(), "a merge needs key fields");
    return new MergeIcebergRows(
        new Spec(
            catalog,
            table,
            schemaJson,
            List.copyOf(keyFields),
            versionField,
            pipeline,
            stem,
            UUID.randomUUID().toString().replace("-", "").substring(0, 12),
            listIn,
            new LinkedHashMap<>(summary),
            positions,
            null));
  }

  /**
   * Records whose boolean {@code field} is true delete their key: the table's row of the key is
   * removed (when the record is its newest version), and the record itself is not written (counted
   * {@code filtered}, reason {@value #DELETED}).
   */
  public MergeIcebergRows withDeletes(String field) {
    checkArgument(field != null && !field.isBlank(), "the deleted field must be a name");
    return new MergeIcebergRows(
        new Spec(
            spec.catalog(),
            spec.table(),
            spec.schemaJson(),
            spec.keyFields(),
            spec.versionField(),
            spec.pipeline(),
            spec.stem(),
            spec.run(),
            spec.listIn(),
            spec.summary(),
            spec.positions(),
            field));
  }

  @Override
  public PCollection<WrittenFile> expand(PCollection<Traced<GenericRecord>> records) {
    PCollectionTuple merged =
        records
            .apply("ByTable", WithKeys.of(spec.table()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), records.getCoder()))
            .apply("PerCommit", GroupByKey.create())
            .apply(
                "Merge",
                ParDo.of(new MergeFn(spec)).withOutputTags(FILES, TupleTagList.of(Tally.TAG)));
    Tally.count(merged);
    PCollection<WrittenFile> files =
        merged.get(FILES).setCoder(SerializableCoder.of(WrittenFile.class));
    if (spec.listIn() != null) {
      WriteDataFiles.list(files, spec.listIn());
    }
    return files;
  }

  /** Merges one commit's records. */
  static final class MergeFn
      extends DoFn<KV<String, Iterable<Traced<GenericRecord>>>, WrittenFile> {
    private final Spec spec;

    MergeFn(Spec spec) {
      this.spec = spec;
    }

    // Stable input: a stream's pane is merged and committed only once a Flink checkpoint holding it
    // completed, and a restore gives the same pane again (found committed by its id). What it
    // counts
    // goes out as a tally (counters are not in scope there on Flink).
    @ProcessElement
    @RequiresStableInput
    public void process(
        @Element KV<String, Iterable<Traced<GenericRecord>>> element,
        BoundedWindow window,
        PaneInfo pane,
        MultiOutputReceiver out)
        throws Exception {
      Tally tally = Tally.of(spec.pipeline());
      mergeInto(element.getValue(), window, pane, tally).forEach(out.get(FILES)::output);
      if (!tally.isEmpty()) {
        out.get(Tally.TAG).output(tally);
      }
    }

    /** As {@link #mergeInto(Iterable, BoundedWindow, PaneInfo, Tally)}, its counts left out. */
    List<WrittenFile> mergeInto(
        Iterable<Traced<GenericRecord>> records, BoundedWindow window, PaneInfo pane)
        throws IOException {
      return mergeInto(records, window, pane, Tally.of(spec.pipeline()));
    }

    /**
     * Merges one pane's records into the table: the files a bounded run lists, or none when the
     * pane committed itself.
     */
    List<WrittenFile> mergeInto(
        Iterable<Traced<GenericRecord>> records, BoundedWindow window, PaneInfo pane, Tally tally)
        throws IOException {
      // The catalog is closed whatever happens, a failure to close never hiding the merge's own.
      return spec.catalog()
          .using(
              catalog -> {
                Table table = catalog.loadTable(TableIdentifier.parse(spec.table()));
                Schema schema =
                    IcebergTables.writing(
                        table,
                        spec.schemaJson() == null
                            ? null
                            : SchemaParser.fromJson(spec.schemaJson()));
                return merge(records, table, schema, window, pane, tally);
              });
    }

    private List<WrittenFile> merge(
        Iterable<Traced<GenericRecord>> records,
        Table table,
        Schema schema,
        BoundedWindow window,
        PaneInfo pane,
        Tally tally)
        throws IOException {
      String id =
          spec.pipeline()
              + "/"
              + spec.table()
              + "/"
              + spec.run()
              + "/"
              + window
              + "/"
              + pane.getIndex();
      IcebergRecords convert = new IcebergRecords(schema);
      // The newest version of each key in this commit; the others are superseded.
      Map<List<Object>, Record> newest = new LinkedHashMap<>();
      Map<String, Long> highest = new TreeMap<>();
      for (Traced<GenericRecord> traced : records) {
        Record record = convert.convert(traced.value());
        List<Object> key = key(record);
        Record other = newest.get(key);
        if (other == null || newer(record, other)) {
          newest.put(key, record);
        }
        if (other != null) {
          tally.filtered(SUPERSEDED, 1);
        }
        KafkaOrigin origin = KafkaOrigin.parse(traced.source().origin());
        if (origin != null) {
          highest.merge(origin.partitionKey(), origin.offset(), Math::max);
        }
      }
      WriteIcebergWindows.Positions positions = spec.positions();
      Map<Integer, Long> next =
          positions == null ? Map.of() : WriteIcebergWindows.next(highest, positions.topic());
      if (spec.listIn() == null
          && IcebergCommit.landed(table, table.currentSnapshot(), id) != null) {
        // A retried commit that landed before: its records are in the table.
        tally.add(IcebergCommit.REPEATED, 1).filtered(STALE, newest.size());
        afterCommit(positions, next, id);
        return List.of();
      }
      // The versions (and partitions) of the rows the table holds for these keys.
      PartitionSpec partitioning = table.spec();
      InternalRecordWrapper wrapper = new InternalRecordWrapper(schema.asStruct());
      Map<List<Object>, Object> current = new HashMap<>();
      Map<List<Object>, PartitionKey> where = new HashMap<>();
      if (table.currentSnapshot() != null && !newest.isEmpty()) {
        try (CloseableIterable<Record> rows =
            IcebergGenerics.read(table).where(filter(newest.keySet())).build()) {
          for (Record row : rows) {
            List<Object> key = key(row);
            if (newest.containsKey(key)) {
              current.merge(key, version(row), (a, b) -> compare(a, b) >= 0 ? a : b);
              PartitionKey partition = new PartitionKey(partitioning, table.schema());
              partition.partition(new InternalRecordWrapper(table.schema().asStruct()).wrap(row));
              where.put(key, partition);
            }
          }
        }
      }
      List<Record> winners = new ArrayList<>();
      for (Map.Entry<List<Object>, Record> entry : newest.entrySet()) {
        boolean held = current.containsKey(entry.getKey());
        if (!held || compare(version(entry.getValue()), current.get(entry.getKey())) > 0) {
          winners.add(entry.getValue());
        } else {
          tally.filtered(STALE, 1);
        }
      }
      // A winner that marks its key deleted removes the table's row and is not written itself.
      List<Record> rows = new ArrayList<>();
      for (Record winner : winners) {
        if (spec.deletedField() != null
            && Boolean.TRUE.equals(winner.getField(spec.deletedField()))) {
          tally.filtered(DELETED, 1);
        } else {
          rows.add(winner);
        }
      }
      List<WrittenFile> files = new ArrayList<>();
      files.addAll(writeData(table, schema, partitioning, wrapper, rows));
      files.addAll(writeDeletes(table, schema, partitioning, winners, where));
      tally.written(rows.size());
      if (spec.listIn() != null) {
        return files;
      }
      Map<String, String> properties = new LinkedHashMap<>(spec.summary());
      properties.put("sluice.pipeline", spec.pipeline());
      properties.put("sluice.run", spec.run());
      properties.put("sluice.window", window.toString());
      properties.put("sluice.written", String.valueOf(rows.size()));
      if (!next.isEmpty()) {
        properties.put(positions.summaryKey(), TableOffsets.format(next));
      }
      if (!files.isEmpty() || !next.isEmpty()) {
        IcebergCommit.Committed done =
            IcebergCommit.commit(
                spec.catalog(),
                spec.table(),
                new IcebergCommit.Change(files, List.of(), properties, id, spec.schemaJson()),
                null);
        tally.add(IcebergCommit.COMMITS, 1).add(IcebergCommit.REPEATED, done.repeated() ? 1 : 0);
      }
      afterCommit(positions, next, id);
      return List.of();
    }

    private static void afterCommit(
        @Nullable WriteIcebergWindows.Positions positions, Map<Integer, Long> next, String id)
        throws IOException {
      if (positions != null && !next.isEmpty()) {
        try {
          positions.after().committed(next);
        } catch (Exception e) {
          throw new IOException(
              "commit " + id + " landed, and its offsets could not be committed: " + e, e);
        }
      }
    }

    private List<Object> key(Record record) {
      List<Object> key = new ArrayList<>(spec.keyFields().size());
      for (String field : spec.keyFields()) {
        Object value = record.getField(field);
        key.add(value instanceof CharSequence text ? text.toString() : value);
      }
      return key;
    }

    /** The record's version: a number, a timestamp or a date (null: older than any). */
    private @Nullable Object version(Record record) {
      return record.getField(spec.versionField());
    }

    /** Orders two versions, null first; numbers by value, others by their natural order. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static int compare(@Nullable Object a, @Nullable Object b) {
      if (a == null || b == null) {
        return a == null ? (b == null ? 0 : -1) : 1;
      }
      if (a instanceof Number x && b instanceof Number y && !(a instanceof BigDecimal)) {
        return Long.compare(x.longValue(), y.longValue());
      }
      return ((Comparable) a).compareTo(b);
    }

    /** Whether {@code a} wins over {@code b}: a newer version, or the same one and a later row. */
    private boolean newer(Record a, Record b) {
      int c = compare(version(a), version(b));
      return c != 0 ? c > 0 : a.toString().compareTo(b.toString()) >= 0;
    }

    /** Rows whose first key field is one of the keys' (a pre-filter; keys are matched in full). */
    private Expression filter(Iterable<List<Object>> keys) {
      List<Object> firsts = new ArrayList<>();
      for (List<Object> key : keys) {
        firsts.add(key.get(0));
      }
      return firsts.size() > 10_000
          ? Expressions.alwaysTrue()
          : Expressions.in(spec.keyFields().get(0), firsts.toArray());
    }

    private List<WrittenFile> writeData(
        Table table,
        Schema schema,
        PartitionSpec partitioning,
        InternalRecordWrapper wrapper,
        List<Record> winners)
        throws IOException {
      Map<PartitionKey, List<Record>> byPartition = new LinkedHashMap<>();
      for (Record record : winners) {
        PartitionKey partition = new PartitionKey(partitioning, schema);
        partition.partition(wrapper.wrap(record));
        byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(record);
      }
      List<WrittenFile> files = new ArrayList<>();
      for (Map.Entry<PartitionKey, List<Record>> part : byPartition.entrySet()) {
        String location =
            table
                .locationProvider()
                .newDataLocation(
                    partitioning,
                    part.getKey(),
                    spec.stem() + "-" + spec.run() + "-" + UUID.randomUUID() + ".parquet");
        DataWriter<Record> writer =
            Parquet.writeData(table.io().newOutputFile(location))
                .forTable(table)
                .schema(schema)
                .withSpec(partitioning)
                .withPartition(partitioning.isUnpartitioned() ? null : part.getKey())
                .createWriterFunc(GenericParquetWriter::create)
                .overwrite()
                .build();
        try (writer) {
          part.getValue().forEach(writer::write);
        }
        DataFile file = writer.toDataFile();
        files.add(
            new WrittenFile(
                file.location(),
                partitioning.isUnpartitioned() ? "" : partitioning.partitionToPath(part.getKey()),
                spec.stem(),
                file.recordCount(),
                file.fileSizeInBytes(),
                IcebergFiles.serialize(file)));
      }
      return files;
    }

    /** Equality deletes on the key columns of the replaced rows, in each one's partition. */
    private List<WrittenFile> writeDeletes(
        Table table,
        Schema schema,
        PartitionSpec partitioning,
        List<Record> winners,
        Map<List<Object>, PartitionKey> where)
        throws IOException {
      List<Integer> ids = new ArrayList<>();
      for (String field : spec.keyFields()) {
        ids.add(schema.findField(field).fieldId());
      }
      Schema keys = schema.select(spec.keyFields());
      Map<PartitionKey, List<List<Object>>> byPartition = new LinkedHashMap<>();
      for (Record winner : winners) {
        List<Object> key = key(winner);
        PartitionKey partition = where.get(key);
        if (partition != null) {
          byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(key);
        }
      }
      GenericAppenderFactory factory =
          new GenericAppenderFactory(
              schema, partitioning, ids.stream().mapToInt(i -> i).toArray(), keys, null);
      List<WrittenFile> files = new ArrayList<>();
      for (Map.Entry<PartitionKey, List<List<Object>>> part : byPartition.entrySet()) {
        String location =
            table
                .locationProvider()
                .newDataLocation(
                    partitioning,
                    part.getKey(),
                    spec.stem() + "-" + spec.run() + "-deletes-" + UUID.randomUUID() + ".parquet");
        EqualityDeleteWriter<Record> writer =
            factory.newEqDeleteWriter(
                EncryptedFiles.plainAsEncryptedOutput(table.io().newOutputFile(location)),
                FileFormat.PARQUET,
                partitioning.isUnpartitioned() ? null : part.getKey());
        try (writer) {
          for (List<Object> key : part.getValue()) {
            org.apache.iceberg.data.GenericRecord row =
                org.apache.iceberg.data.GenericRecord.create(keys);
            for (int i = 0; i < key.size(); i++) {
              row.setField(spec.keyFields().get(i), key.get(i));
            }
            writer.write(row);
          }
        }
        DeleteFile file = writer.toDeleteFile();
        files.add(
            new WrittenFile(
                file.location(),
                partitioning.isUnpartitioned() ? "" : partitioning.partitionToPath(part.getKey()),
                spec.stem(),
                0,
                file.fileSizeInBytes(),
                IcebergFiles.serialize(file)));
      }
      return files;
    }
  }
}

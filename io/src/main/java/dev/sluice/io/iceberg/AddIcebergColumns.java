package dev.sluice.io.iceberg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.io.files.CandidateContract;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.parse.SchemaChanges;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --onSchemaChange=add_columns} into an Iceberg table. Records of an open schema ({@link
 * SchemaChanges#open}) carry the fields the contract lacks; before a record with a field the table
 * lacks passes on, the field is added as an optional column (Iceberg's {@code UpdateSchema}) and
 * recorded in the table's properties ({@code sluice.schema-change.<column>}: type, first origin,
 * pipeline, run, time), in one metadata commit of its own; a writer that added the same column
 * first leaves this one nothing to add. The writers ({@link IcebergFiles#withAddColumns}, {@link
 * MergeIcebergRows}) then write the new fields' values into their columns: rows written before read
 * NULL there. A value that does not fit its column (a string where the column holds numbers), or a
 * field whose name cannot be a column, is a {@code schema} dead letter. Each change rewrites the
 * candidate contract (the reviewed one with every recorded column) for review and commit.
 */
public final class AddIcebergColumns
    extends PTransform<PCollection<Traced<GenericRecord>>, Result<Traced<GenericRecord>>> {
  /** The dead letters' step. */
  public static final String STEP = "AddColumns";

  /** The table property prefix recording a column add_columns added. */
  public static final String PROPERTY = "sluice.schema-change.";

  private static final Logger LOG = LoggerFactory.getLogger(AddIcebergColumns.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final IcebergCatalog catalog;
  private final String table;
  private final String pipeline;
  private final String run;
  private final CandidateContract candidate;

  private AddIcebergColumns(
      IcebergCatalog catalog,
      String table,
      String pipeline,
      String run,
      CandidateContract candidate) {
    this.catalog = catalog;
    this.table = table;
    this.pipeline = pipeline;
    this.run = run;
    this.candidate = candidate;
  }

  /**
   * The step adding {@code table}'s new columns; {@code pipeline} and {@code run} are recorded with
   * each, and {@code candidate} rewritten after each.
   */
  public static AddIcebergColumns to(
      IcebergCatalog catalog,
      String table,
      String pipeline,
      String run,
      CandidateContract candidate) {
    IcebergTables.identifier(table);
    return new AddIcebergColumns(catalog, table, pipeline, run, candidate);
  }

  /** Where the candidate contract is written, or null. */
  public CandidateContract candidate() {
    return candidate;
  }

  /** The columns add_columns added to {@code table}, name to Avro type, in the table's order. */
  public static Map<String, String> recorded(Table table) {
    Map<String, String> out = new LinkedHashMap<>();
    Map<String, String> properties = table.properties();
    for (Types.NestedField column : table.schema().columns()) {
      if (properties.containsKey(PROPERTY + column.name())) {
        String type = IcebergRecords.avroType(column.type());
        if (type != null) {
          out.put(column.name(), type);
        }
      }
    }
    return out;
  }

  @Override
  public Result<Traced<GenericRecord>> expand(PCollection<Traced<GenericRecord>> input) {
    TupleTag<Traced<GenericRecord>> passed = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    PCollectionTuple out =
        input.apply(
            "AddColumns",
            ParDo.of(new AddFn(this, passed, failed))
                .withOutputTags(passed, TupleTagList.of(failed)));
    out.get(passed).setCoder(input.getCoder());
    out.get(failed).setCoder(DeadLetters.coder());
    return Result.of(out, passed, failed);
  }

  static final class AddFn extends DoFn<Traced<GenericRecord>, Traced<GenericRecord>> {
    private final AddIcebergColumns spec;
    private final TupleTag<Traced<GenericRecord>> passed;
    private final TupleTag<DeadLetter> failed;
    private final DeadLetters deadLetters;

    /** The table as last read: its schema and properties. */
    private transient Table loaded;

    AddFn(
        AddIcebergColumns spec,
        TupleTag<Traced<GenericRecord>> passed,
        TupleTag<DeadLetter> failed) {
      this.spec = spec;
      this.passed = passed;
      this.failed = failed;
      this.deadLetters = DeadLetters.forStep(spec.pipeline, STEP);
    }

    @Setup
    public void setup() throws IOException {
      loaded = load();
    }

    /**
     * The table as it is now, read on a connection of its own (a long-lived connection to an
     * embedded SQLite catalog may go on seeing the table as it was).
     */
    private Table load() throws IOException {
      return spec.catalog.using(catalog -> catalog.loadTable(TableIdentifier.parse(spec.table)));
    }

    @ProcessElement
    public void process(@Element Traced<GenericRecord> record, MultiOutputReceiver out)
        throws IOException {
      GenericRecord value = record.value();
      if (!SchemaChanges.isOpen(value.getSchema()) || value.get(SchemaChanges.EXTRA) == null) {
        out.get(passed).output(record);
        return;
      }
      try {
        Map<String, JsonNode> extras = SchemaChanges.extras(value);
        Map<String, SchemaChanges.Change> missing = missing(extras, record);
        if (!missing.isEmpty()) {
          // Another writer may have added them since this one looked.
          loaded = load();
          missing = missing(extras, record);
        }
        if (!missing.isEmpty()) {
          add(missing);
        }
        Schema schema = loaded.schema();
        for (Map.Entry<String, JsonNode> extra : extras.entrySet()) {
          IcebergRecords.fromJson(schema.findField(extra.getKey()), extra.getValue());
        }
        out.get(passed).output(record);
      } catch (RecordException e) {
        out.get(failed).output(deadLetters.of(record.source(), e));
      }
    }

    /** The new fields the table lacks, as changes first seen at the record's origin. */
    private Map<String, SchemaChanges.Change> missing(
        Map<String, JsonNode> extras, Traced<GenericRecord> record) throws RecordException {
      Map<String, SchemaChanges.Change> missing = new LinkedHashMap<>();
      Schema schema = loaded.schema();
      for (Map.Entry<String, JsonNode> extra : extras.entrySet()) {
        String name = extra.getKey();
        if (schema.findField(name) != null) {
          continue;
        }
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,127}")) {
          throw new RecordException(
              FailureReason.SCHEMA,
              "new field '"
                  + name
                  + "' cannot be a column of "
                  + spec.table
                  + ": not a plain name (letters, digits, _; as Avro names its fields)");
        }
        String type = SchemaChanges.inferType(extra.getValue());
        if (IcebergRecords.icebergTypeOrNull(type) == null) {
          throw new RecordException(
              FailureReason.SCHEMA,
              "new field '"
                  + name
                  + "' holds a "
                  + type
                  + ": only a string, number or boolean can be added as a column");
        }
        missing.put(name, new SchemaChanges.Change(name, type, record.source().origin()));
      }
      return missing;
    }

    /**
     * Adds {@code changes} as optional columns and records them in the table's properties, in one
     * commit; a concurrent commit (another worker adding the same column) is retried against the
     * table as it is then, adding only what is still missing.
     */
    private void add(Map<String, SchemaChanges.Change> changes) throws IOException {
      TableIdentifier id = TableIdentifier.parse(spec.table);
      RuntimeException last = null;
      for (int attempt = 0; attempt < 5; attempt++) {
        try {
          List<SchemaChanges.Change> added =
              spec.catalog.committing(
                  catalog -> {
                    // Read now, in the commit's turn: what another writer added is there.
                    Table table = catalog.loadTable(id);
                    Schema schema = table.schema();
                    List<SchemaChanges.Change> todo =
                        changes.values().stream()
                            .filter(c -> schema.findField(c.field()) == null)
                            .toList();
                    if (todo.isEmpty()) {
                      return todo;
                    }
                    Transaction transaction = table.newTransaction();
                    UpdateSchema update = transaction.updateSchema();
                    for (SchemaChanges.Change change : todo) {
                      update.addColumn(
                          change.field(),
                          IcebergRecords.icebergType(change.type()),
                          "Added by --onSchemaChange=add_columns");
                    }
                    update.commit();
                    UpdateProperties properties = transaction.updateProperties();
                    for (SchemaChanges.Change change : todo) {
                      properties.set(PROPERTY + change.field(), describe(change));
                    }
                    properties.commit();
                    transaction.commitTransaction();
                    return todo;
                  });
          loaded = load();
          if (!added.isEmpty()) {
            String written = spec.candidate.write(recorded(loaded));
            LOG.warn(
                "{}: columns {} added to table {} for the fields the contract lacks{}",
                spec.pipeline,
                added.stream().map(c -> c.field() + " " + c.type()).toList(),
                spec.table,
                written == null ? "" : "; candidate contract written to " + written);
          }
          return;
        } catch (CommitFailedException e) {
          // Another process committed first (possibly the same column): look again.
          last = e;
        }
      }
      throw new IOException(
          "could not add columns " + changes.keySet() + " to table " + spec.table + ": " + last,
          last);
    }

    private String describe(SchemaChanges.Change change) {
      ObjectNode node = JSON.createObjectNode();
      node.put("type", change.type());
      node.put("first_origin", change.origin());
      node.put("pipeline", spec.pipeline);
      node.put("run", spec.run);
      node.put("added_at", Instant.now().toString());
      return node.toString();
    }
  }
}

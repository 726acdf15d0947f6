package dev.sluice.io.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.auto.value.AutoValue;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.BatchingFn;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.Progress;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.dedupe.NewestPerKey;
import dev.sluice.transforms.parse.SchemaChanges;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.postgresql.PGConnection;

/**
 * Upserts records into a table, guarded by a version column so that a replay or an out-of-order
 * arrival never overwrites a newer row (the SQL is {@link UpsertSql}'s).
 *
 * <p>Rows are written in batches, one transaction each, through a pooled connection. A transient
 * error (connection lost, serialization failure, deadlock) rolls the batch back and retries it with
 * exponential backoff; when the retries run out the run fails. A row the database rejects
 * (constraint, value too long, invalid encoding) is isolated by replaying its batch row by row
 * under savepoints: the other rows land and the rejected one is dead-lettered with the database's
 * message. Beam's JdbcIO has no dead-letter path, hence this sink.
 *
 * <p>Counts: rows inserted or updated are {@code written}; rows the version guard kept out are
 * {@code filtered} as {@code stale_version}, and only those: a row is stale when the table (or its
 * deleted-keys table) is shown to hold its key at the same or a newer version, checked in the
 * batch's transaction with one query. A row the upsert did not apply for any other reason (a
 * trigger returning NULL, a rule {@code DO INSTEAD NOTHING}) is a {@code sink} dead letter that
 * says so.
 */
@AutoValue
public abstract class JdbcUpsert
    extends PTransform<PCollection<Traced<GenericRecord>>, Result<Long>> {
  public static final String STEP = "Upsert";

  abstract JdbcConnection connection();

  /** The SQL of the upsert into the table written (the target, or its staging table). */
  public abstract UpsertSql statements();

  /** The table lineage names: the target, even while a staging table is written. */
  abstract String published();

  abstract String pipeline();

  abstract int batchSize();

  abstract int maxRetries();

  abstract long initialBackoffMillis();

  abstract boolean copy();

  abstract @Nullable String runId();

  abstract @Nullable SchemaChangeLog addColumns();

  abstract @Nullable HistorySql history();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setConnection(JdbcConnection connection);

    abstract Builder setStatements(UpsertSql statements);

    abstract Builder setPublished(String table);

    abstract Builder setPipeline(String pipeline);

    abstract Builder setBatchSize(int batchSize);

    abstract Builder setMaxRetries(int retries);

    abstract Builder setInitialBackoffMillis(long millis);

    abstract Builder setCopy(boolean copy);

    abstract Builder setRunId(@Nullable String runId);

    abstract Builder setAddColumns(@Nullable SchemaChangeLog log);

    abstract Builder setHistory(@Nullable HistorySql history);

    abstract JdbcUpsert build();
  }

  /**
   * The upsert of {@code statements}' records into its table through {@code connection}; {@code
   * pipeline} names the counters.
   */
  public static JdbcUpsert into(JdbcConnection connection, UpsertSql statements, String pipeline) {
    checkArgument(connection != null, "connection must not be null");
    return new AutoValue_JdbcUpsert.Builder()
        .setConnection(connection)
        .setStatements(statements)
        .setPublished(statements.table())
        .setPipeline(pipeline)
        .setBatchSize(10_000)
        .setMaxRetries(5)
        .setInitialBackoffMillis(200)
        .setCopy(true)
        .build();
  }

  /**
   * Writes to {@code staging}, a table shaped like the target (a run's staging table), while
   * lineage keeps naming the table the rows are published to.
   */
  public JdbcUpsert withStaging(StagingTable staging) {
    checkArgument(
        staging.table().equals(published()),
        "staging table %s stages %s, not %s",
        staging.staging(),
        staging.table(),
        published());
    return toBuilder().setStatements(statements().into(staging.staging())).build();
  }

  /**
   * Records of an {@link SchemaChanges#open open} schema carry fields the contract lacks: each new
   * one is added to the table as a nullable column (and recorded in {@code log}) before the first
   * batch that carries it is written, and from then on every row is written with the added columns
   * (null where a record has no value). A value that does not fit its column's type is a {@code
   * schema} dead letter naming the field. Not with a staging table. With SCD2 history ({@link
   * #withHistory}, given first), each column is added to the history and to its ledger.
   */
  public JdbcUpsert withAddColumns(SchemaChangeLog log) {
    checkArgument(
        statements().table().equals(published())
            || (history() != null && statements().table().equals(history().ledger())),
        "new columns cannot be added through staging");
    checkArgument(
        history() == null || log.companions().contains(history().ledger()),
        "the log must add each column to the history's ledger %s too",
        history() == null ? null : history().ledger());
    checkArgument(
        log.table().equals(published()), "the log is of %s, not %s", log.table(), published());
    return toBuilder().setAddColumns(log).build();
  }

  /**
   * Keeps SCD type 2 history ({@link HistorySql}): the records are upserted into its ledger (key
   * and version), and in the same transaction the history rows of the batch's keys are rebuilt from
   * the ledger, under advisory locks of those keys. PostgreSQL only; not with a staging table.
   */
  public JdbcUpsert withHistory(HistorySql history) {
    checkArgument(
        statements().table().equals(published()), "history cannot be written through staging");
    checkArgument(
        statements().table().equals(history.ledger())
            && statements().keyFields().equals(history.ledgerKey()),
        "the upsert must write the history's ledger %s on %s",
        history.ledger(),
        history.ledgerKey());
    return toBuilder().setHistory(history).setPublished(history.history()).build();
  }

  /** Rows written count toward the progress lines of this run (see {@link Progress}). */
  public JdbcUpsert withProgressOf(String runId) {
    return toBuilder().setRunId(runId).build();
  }

  public JdbcUpsert withBatchSize(int batchSize) {
    checkArgument(batchSize > 0, "batchSize must be > 0, but was %s", batchSize);
    return toBuilder().setBatchSize(batchSize).build();
  }

  /** Retries of a batch after a transient error, and the first backoff (doubled each time). */
  public JdbcUpsert withRetries(int maxRetries, long initialBackoffMillis) {
    checkArgument(maxRetries >= 0, "maxRetries must be >= 0, but was %s", maxRetries);
    checkArgument(
        initialBackoffMillis >= 0, "backoff must be >= 0 ms, but was %s", initialBackoffMillis);
    return toBuilder()
        .setMaxRetries(maxRetries)
        .setInitialBackoffMillis(initialBackoffMillis)
        .build();
  }

  /**
   * How batches reach PostgreSQL: {@code true} (the default) COPYs each batch into a temporary
   * table and merges it with one {@code INSERT ... SELECT ... ON CONFLICT}; {@code false} sends the
   * batch as prepared upserts. Either way a batch is one transaction, counted row by row, and a
   * batch with a rejected row is replayed row by row under savepoints.
   */
  public JdbcUpsert withCopy(boolean copy) {
    return toBuilder().setCopy(copy).build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("jdbcUrl", connection().safeUrl()))
        .add(DisplayData.item("table", statements().table()))
        .add(DisplayData.item("publishedTo", published()))
        .add(DisplayData.item("keyFields", String.join(",", statements().keyFields())))
        .add(DisplayData.item("versionField", statements().versionField()))
        .add(DisplayData.item("batchSize", batchSize()))
        .add(DisplayData.item("maxRetries", maxRetries()))
        .add(DisplayData.item("writeMethod", copy() ? "copy" : "insert"));
  }

  /** What the writing DoFn needs, and nothing else. */
  record Spec(
      JdbcConnection connection,
      UpsertSql statements,
      String published,
      String pipeline,
      int batchSize,
      JdbcRetry retry,
      boolean copy,
      @Nullable String runId,
      @Nullable SchemaChangeLog addColumns,
      @Nullable HistorySql history)
      implements Serializable {}

  @Override
  public Result<Long> expand(PCollection<Traced<GenericRecord>> input) {
    TupleTag<Long> written = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    Spec spec =
        new Spec(
            connection(),
            statements(),
            published(),
            pipeline(),
            batchSize(),
            JdbcRetry.on(connection(), statements().table())
                .withRetries(maxRetries(), initialBackoffMillis()),
            copy(),
            runId(),
            addColumns(),
            history());
    PCollectionTuple out =
        input.apply(
            "WriteBatches",
            ParDo.of(new UpsertFn(spec, written, failed))
                .withOutputTags(written, TupleTagList.of(failed)));
    out.get(written).setCoder(VarLongCoder.of());
    out.get(failed).setCoder(DeadLetters.coder());
    return Result.of(out, written, failed);
  }

  static final class UpsertFn extends BatchingFn<Traced<GenericRecord>, Long> {
    /** The temporary batch table's column holding each row's place in its batch. */
    static final String BATCH_ROW = "sluice_row";

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UpsertFn.class);

    /** The sessions (backend process id and table) whose temporary batch table exists. */
    private static final Set<String> TEMPORARY_TABLES = ConcurrentHashMap.newKeySet();

    private final Spec spec;
    private final TupleTag<Long> written;
    private final TupleTag<DeadLetter> failed;
    private final Accounting accounting;
    private final DeadLetters deadLetters;
    private transient UpsertSql statements;
    private transient Schema schema;
    private transient Map<String, String> added;
    private transient int baseColumns;
    private transient String sql;
    private transient String columns;
    private transient String temporary;
    private transient String merge;
    private transient String mergeDistinct;
    private transient boolean reported;

    /** Whether the batch written last is whole in the temporary batch table (COPY path). */
    private transient boolean batchInTemporary;

    /** The SCD2 history written, its columns those of the rows (add_columns may add some). */
    private transient @Nullable HistorySql history;

    private transient NewestPerKey newest;
    private transient Progress progress;

    UpsertFn(Spec spec, TupleTag<Long> written, TupleTag<DeadLetter> failed) {
      super(spec.batchSize());
      this.spec = spec;
      this.written = written;
      this.failed = failed;
      this.accounting = Accounting.of(spec.pipeline());
      this.deadLetters =
          DeadLetters.forStep(spec.pipeline(), STEP).withSchema(spec.statements().avroSchema());
    }

    @Setup
    public void setup() {
      UpsertSql statements = spec.statements();
      if (spec.addColumns() != null) {
        statements = statements.withSchema(SchemaChanges.closed(statements.avroSchema()));
      }
      added = new LinkedHashMap<>();
      history = spec.history();
      shape(statements);
      baseColumns = schema.getFields().size();
      newest = NewestPerKey.of(statements.keyFields(), statements.versionField());
      progress =
          spec.runId() == null ? null : Progress.of(spec.pipeline(), spec.runId(), 0, "rows");
    }

    /** The statements and their SQL for rows of {@code statements}' schema. */
    private void shape(UpsertSql statements) {
      this.statements = statements;
      schema = statements.avroSchema();
      sql = statements.values();
      columns = String.join(", ", statements.columns());
      // The temporary batch table is shaped like the table when it is made: once columns were
      // added, a new one is made, with another name.
      String name = statements.table() + (added.isEmpty() ? "" : ":" + columns);
      temporary = "sluice_batch_" + Integer.toHexString(name.hashCode() & 0x7fffffff);
      merge = statements.mergeFrom(temporary, false);
      mergeDistinct = statements.mergeFrom(temporary, true);
    }

    /**
     * The batch with the new fields its records carry as columns: new ones are added to the table
     * first, and every record becomes a row of the table's columns; a value that does not fit its
     * column is a dead letter.
     */
    private List<Pending<Traced<GenericRecord>>> withNewColumns(
        List<Pending<Traced<GenericRecord>>> pending, Emitter out) throws Exception {
      List<Map<String, JsonNode>> extras = new ArrayList<>(pending.size());
      Map<String, SchemaChanges.Change> fresh = new LinkedHashMap<>();
      boolean any = false;
      for (Pending<Traced<GenericRecord>> p : pending) {
        Map<String, JsonNode> values;
        try {
          values = SchemaChanges.extras(p.element().value());
        } catch (RecordException e) {
          values = null;
        }
        extras.add(values);
        if (values == null) {
          continue;
        }
        any |= !values.isEmpty();
        for (Map.Entry<String, JsonNode> e : values.entrySet()) {
          if (!added.containsKey(e.getKey()) && schema.getField(e.getKey()) == null) {
            fresh.putIfAbsent(
                e.getKey(),
                new SchemaChanges.Change(
                    e.getKey(),
                    SchemaChanges.inferType(e.getValue()),
                    p.element().source().origin()));
          }
        }
      }
      if (!fresh.isEmpty()) {
        SchemaChangeLog log = spec.addColumns();
        List<SchemaChanges.Change> addable = new ArrayList<>();
        for (SchemaChanges.Change change : fresh.values()) {
          if (SqlIdentifiers.isPart(change.field())) {
            addable.add(change);
          }
        }
        learn(
            spec.retry()
                .inTransaction(
                    () -> "adding columns " + fresh.keySet() + " to " + log.table(),
                    connection ->
                        log.add(
                            connection, addable, spec.pipeline(), String.valueOf(spec.runId()))));
      }
      if (!any && schema.getFields().size() == baseColumns) {
        // No new field in the batch, and every column is the plan's: the records are rows as
        // they are.
        return pending;
      }
      List<Pending<Traced<GenericRecord>>> rows = new ArrayList<>(pending.size());
      for (int i = 0; i < pending.size(); i++) {
        Pending<Traced<GenericRecord>> p = pending.get(i);
        try {
          rows.add(
              new Pending<>(
                  p.element().withValue(row(p.element().value(), extras.get(i))),
                  p.window(),
                  p.timestamp()));
        } catch (RecordException e) {
          out.emit(failed, deadLetters.of(p.element().source(), e), p);
        }
      }
      return rows;
    }

    /**
     * Takes {@code recorded} (every column the ledger records for the table) as this writer's
     * columns: rows are shaped with the ones it did not know yet from now on (and the history's
     * statements with them), and the candidate contract is written again.
     */
    private void learn(Map<String, String> recorded) throws IOException {
      Map<String, String> before = Map.copyOf(added);
      added.putAll(recorded);
      UpsertSql base =
          spec.statements().withSchema(SchemaChanges.closed(spec.statements().avroSchema()));
      Schema wider = SchemaChanges.withColumns(base.avroSchema(), added);
      if (added.equals(before) || wider.getFields().size() == schema.getFields().size()) {
        return;
      }
      shape(base.withSchema(wider));
      if (history != null) {
        history = history.withColumns(List.copyOf(added.keySet()));
      }
      SchemaChangeLog log = spec.addColumns();
      String candidate = log.writeCandidate(added);
      LOG.warn(
          "{}: columns {} of {} now hold the fields the contract lacks{}",
          spec.pipeline(),
          added,
          log.table(),
          candidate == null ? "" : "; candidate contract written to " + candidate);
    }

    /**
     * Thrown in a batch's transaction when the ledger records a column this writer does not know
     * (another writer added it since): the batch is shaped again and written again.
     */
    private static final class ColumnsChanged extends RuntimeException {
      final Map<String, String> recorded;

      ColumnsChanged(Map<String, String> recorded) {
        super("columns were added to the table", null, false, false);
        this.recorded = recorded;
      }
    }

    /**
     * In a batch's transaction, before it writes: takes the table's lock that an {@code ALTER
     * TABLE} waits for (so no column is added until this transaction ends) and reads the ledger; a
     * column this writer does not know yet throws {@link ColumnsChanged}. So a writer never updates
     * a row without a column another writer added: the row's value there would stay as it was
     * instead of becoming the record's (none, NULL).
     */
    private void checkColumns(Connection connection) throws SQLException {
      SchemaChangeLog log = spec.addColumns();
      if (log == null || !connection.isWrapperFor(PGConnection.class)) {
        return;
      }
      // Made (and committed) first, as the lock is the transaction's until it ends.
      ensureTemporaryTable(connection);
      try (Statement lock = connection.createStatement()) {
        lock.execute(
            "LOCK TABLE " + SqlIdentifiers.quote("table", log.table()) + " IN ROW EXCLUSIVE MODE");
      }
      Map<String, String> recorded = log.recorded(connection);
      for (String column : recorded.keySet()) {
        if (schema.getField(column) == null) {
          throw new ColumnsChanged(recorded);
        }
      }
    }

    /** The rows shaped as the current columns: their fields by name, NULL in the new ones. */
    private List<Pending<Traced<GenericRecord>>> reshaped(
        List<Pending<Traced<GenericRecord>>> pending) {
      List<Pending<Traced<GenericRecord>>> rows = new ArrayList<>(pending.size());
      for (Pending<Traced<GenericRecord>> p : pending) {
        GenericRecord old = p.element().value();
        GenericData.Record row = new GenericData.Record(schema);
        for (Schema.Field field : schema.getFields()) {
          Schema.Field own = old.getSchema().getField(field.name());
          row.put(field.pos(), own == null ? null : old.get(own.pos()));
        }
        rows.add(new Pending<>(p.element().withValue(row), p.window(), p.timestamp()));
      }
      return rows;
    }

    /** A record as a row of the current columns: its fields, then the new fields' values. */
    private GenericRecord row(GenericRecord record, @Nullable Map<String, JsonNode> extras)
        throws RecordException {
      if (extras == null) {
        extras = SchemaChanges.extras(record);
      }
      for (String name : extras.keySet()) {
        if (schema.getField(name) == null) {
          throw new RecordException(
              FailureReason.SCHEMA,
              "new field '"
                  + name
                  + "' cannot be a column of "
                  + statements.table()
                  + ": not a plain identifier (letters, digits, _; at most 63 characters)");
        }
      }
      GenericData.Record row = new GenericData.Record(schema);
      for (Schema.Field field : schema.getFields()) {
        Schema.Field own = record.getSchema().getField(field.name());
        if (own != null) {
          row.put(field.pos(), record.get(own.pos()));
        } else {
          row.put(field.pos(), SchemaChanges.value(field, extras.get(field.name())));
        }
      }
      return row;
    }

    @Override
    protected void startBatches() {
      reported = false;
    }

    @Override
    protected void flush(List<Pending<Traced<GenericRecord>>> pending, Emitter out)
        throws Exception {
      if (!reported) {
        ReportLineage.report(false, "jdbc", spec.connection().safeUrl() + "/" + spec.published());
        reported = true;
      }
      Outcome outcome;
      if (spec.addColumns() != null) {
        pending = withNewColumns(pending, out);
        if (pending.isEmpty()) {
          return;
        }
        for (int attempt = 1; ; attempt++) {
          try {
            outcome = write(pending);
            break;
          } catch (ColumnsChanged changed) {
            if (attempt >= 5) {
              throw new IOException(
                  "columns of " + spec.addColumns().table() + " kept changing under a batch");
            }
            // The records of this batch carry none of them (else this writer had added them
            // itself): their rows hold NULL there.
            learn(changed.recorded);
            pending = reshaped(pending);
          }
        }
      } else {
        outcome = write(pending);
      }
      for (int i = 0; i < outcome.rejected.size(); i++) {
        Pending<Traced<GenericRecord>> p = outcome.rejected.get(i);
        out.emit(failed, deadLetters.of(p.element().source(), outcome.errors.get(i)), p);
      }
      out.emit(written, outcome.written, outcome.batch.get(outcome.batch.size() - 1));
    }

    /** What a flushed batch did: rows written, and rows rejected with their errors. */
    private static final class Outcome {
      final List<Pending<Traced<GenericRecord>>> batch;
      final List<Pending<Traced<GenericRecord>>> rejected = new ArrayList<>();
      final List<RecordException> errors = new ArrayList<>();
      long written;

      Outcome(List<Pending<Traced<GenericRecord>>> batch) {
        this.batch = batch;
      }
    }

    private Outcome write(List<Pending<Traced<GenericRecord>>> pending) throws Exception {
      // The newest version of each key in the batch: PostgreSQL's ON CONFLICT cannot touch a key
      // twice in one statement, and the older versions would lose to the guard anyway.
      NewestPerKey.Kept<Pending<Traced<GenericRecord>>> kept =
          newest.keep(pending, p -> p.element().value());
      List<Pending<Traced<GenericRecord>>> batch = kept.newest();
      String table = statements.table();
      Outcome outcome =
          spec.retry()
              .inTransaction(
                  () -> "writing a batch of " + batch.size() + " rows to " + table,
                  connection -> {
                    checkColumns(connection);
                    if (history == null) {
                      return writeBatch(connection, batch, kept.unique());
                    }
                    lockKeys(connection, batch);
                    Outcome written = writeBatch(connection, batch, kept.unique());
                    rebuildHistory(connection, batch);
                    return written;
                  });
      accounting.filtered("superseded", kept.superseded());
      accounting.written().inc(outcome.written);
      if (progress != null) {
        progress.written(outcome.written);
        progress.accepted(kept.newest().size() + kept.superseded());
      }
      long stale = batch.size() - outcome.written - outcome.rejected.size();
      accounting.filtered("stale_version", stale);
      return outcome;
    }

    /**
     * The batch in the caller's transaction: at once, or row by row under savepoints if a row is
     * rejected. Any other error is thrown for the retry to classify.
     */
    private Outcome writeBatch(
        Connection connection, List<Pending<Traced<GenericRecord>>> batch, boolean unique)
        throws SQLException {
      boolean postgres = connection.isWrapperFor(PGConnection.class);
      batchInTemporary = false;
      if (postgres) {
        ensureTemporaryTable(connection);
      }
      if (spec.copy() && postgres) {
        Savepoint beforeCopy = connection.setSavepoint();
        try {
          Outcome outcome = new Outcome(batch);
          outcome.written = copyAndMerge(connection, batch, unique);
          batchInTemporary = true;
          if (outcome.written < batch.size()) {
            rejectNotApplied(connection, outcome, null);
          }
          return outcome;
        } catch (SQLException e) {
          // A rejected value, or one key twice in the batch (21000): the statement path below
          // writes the rows one after another and isolates the rejected ones.
          if (!SqlErrors.isRowError(e) && !"21000".equals(e.getSQLState())) {
            throw e;
          }
          connection.rollback(beforeCopy);
        }
      }
      try (PreparedStatement statement = connection.prepareStatement(sql)) {
        Savepoint beforeBatch = connection.setSavepoint();
        try {
          Outcome outcome = new Outcome(batch);
          for (Pending<Traced<GenericRecord>> p : batch) {
            bind(statement, p.element().value());
            statement.addBatch();
          }
          int[] counts = statement.executeBatch();
          List<Integer> unwritten = new ArrayList<>();
          for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
              outcome.written++;
            } else {
              unwritten.add(i);
            }
          }
          rejectNotApplied(connection, outcome, unwritten);
          return outcome;
        } catch (SQLException e) {
          if (!SqlErrors.isRowError(e)) {
            throw e;
          }
          connection.rollback(beforeBatch);
        }
        statement.clearBatch();
        Outcome isolated = new Outcome(batch);
        List<Integer> unwritten = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
          Pending<Traced<GenericRecord>> p = batch.get(i);
          Savepoint savepoint = connection.setSavepoint();
          try {
            bind(statement, p.element().value());
            if (statement.executeUpdate() > 0) {
              isolated.written++;
            } else {
              unwritten.add(i);
            }
            connection.releaseSavepoint(savepoint);
          } catch (SQLException e) {
            if (!SqlErrors.isRowError(e)) {
              throw e;
            }
            connection.rollback(savepoint);
            isolated.rejected.add(p);
            isolated.errors.add(
                new RecordException(
                    FailureReason.SINK,
                    "rejected by "
                        + statements.table()
                        + " (SQLState "
                        + e.getSQLState()
                        + "): "
                        + SqlErrors.message(e),
                    e));
          }
        }
        rejectNotApplied(connection, isolated, unwritten);
        return isolated;
      }
    }

    /**
     * Takes the transaction's advisory locks of the batch's keys, in the order of their hashes, so
     * that two writers rebuild a key's history one after the other from the ledger they both see.
     */
    private void lockKeys(Connection connection, List<Pending<Traced<GenericRecord>>> batch)
        throws SQLException {
      if (!connection.isWrapperFor(PGConnection.class)) {
        throw new SQLException("SCD2 history needs PostgreSQL", "0A000");
      }
      // Made (and committed) first: the locks are the transaction's, until it ends.
      ensureTemporaryTable(connection);
      java.util.TreeSet<Integer> hashes = new java.util.TreeSet<>();
      for (Pending<Traced<GenericRecord>> p : batch) {
        StringBuilder key = new StringBuilder();
        for (String k : history.keyFields()) {
          key.append(p.element().value().get(k)).append('\u0000');
        }
        hashes.add(key.toString().hashCode());
      }
      try (PreparedStatement lock = connection.prepareStatement(history.lockKeys())) {
        lock.setArray(1, connection.createArrayOf("integer", hashes.toArray(Integer[]::new)));
        lock.execute();
      }
    }

    /**
     * Rebuilds the history rows of the batch's keys from the ledger: the batch's rows are in the
     * session's temporary batch table after a COPY; otherwise (the statement paths) they are copied
     * there first.
     */
    private void rebuildHistory(Connection connection, List<Pending<Traced<GenericRecord>>> batch)
        throws SQLException {
      try (Statement statement = connection.createStatement()) {
        if (!batchInTemporary) {
          statement.execute("DELETE FROM " + temporary);
          copy(
              connection.unwrap(PGConnection.class),
              batch,
              IntStream.range(0, batch.size()).boxed().toList());
        }
        // The batch table has no statistics, and those of the history and ledger lag behind them:
        // left alone, the planner may scan either table whole for a batch's few keys. Each lookup
        // is by the tables' primary keys, so the rest of this transaction looks them up by index.
        statement.execute(
            "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;"
                + " SET LOCAL enable_seqscan = off");
        statement.executeUpdate(history.deleteKeys(temporary));
        statement.executeUpdate(history.rebuild(temporary));
      }
    }

    /**
     * Rejects the rows the upsert wrote nothing for although the table does not hold their key at
     * the same or a newer version: the guard would have let them in, so something else (a trigger,
     * a rule) discarded them, and they are not stale. One query for the batch, in its transaction,
     * over the session's temporary batch table: the rows are there already after a COPY ({@code
     * candidates} null), otherwise {@code candidates} (places in the batch) are copied there first.
     * Without PostgreSQL's COPY the rows cannot be checked and count as stale, as before.
     */
    private void rejectNotApplied(
        Connection connection, Outcome outcome, @Nullable List<Integer> candidates)
        throws SQLException {
      if (candidates != null) {
        if (candidates.isEmpty() || !connection.isWrapperFor(PGConnection.class)) {
          return;
        }
        copy(connection.unwrap(PGConnection.class), outcome.batch, candidates);
      }
      String table = statements.table();
      try (Statement statement = connection.createStatement();
          ResultSet rows =
              statement.executeQuery(statements.notApplied(temporary, "sluice_b." + BATCH_ROW))) {
        while (rows.next()) {
          outcome.rejected.add(outcome.batch.get(rows.getInt(1)));
          outcome.errors.add(
              new RecordException(
                  FailureReason.SINK,
                  "not applied: the upsert into "
                      + table
                      + " changed no row, yet "
                      + table
                      + " holds no equal or newer version of this key (a trigger or rule on the"
                      + " table discarded the row)"));
        }
      }
    }

    /**
     * COPYs the batch into this session's temporary copy of the table, then merges it with the same
     * versioned upsert; returns the rows the merge inserted or updated.
     */
    private long copyAndMerge(
        Connection connection, List<Pending<Traced<GenericRecord>>> batch, boolean unique)
        throws SQLException {
      PGConnection pg = connection.unwrap(PGConnection.class);
      String session = pg.getBackendPID() + ":" + temporary;
      try (Statement statement = connection.createStatement()) {
        try {
          copy(pg, batch, IntStream.range(0, batch.size()).boxed().toList());
        } catch (SQLException e) {
          // A new session that reuses an old one's process id has no such table yet.
          TEMPORARY_TABLES.remove(session);
          throw e;
        }
        return statement.executeUpdate(unique ? merge : mergeDistinct);
      }
    }

    /**
     * Makes this session's temporary batch table, once per connection rather than once per batch,
     * in a transaction of its own (committed before the batch's transaction starts its work, so a
     * batch that rolls back cannot take the table with it).
     */
    private void ensureTemporaryTable(Connection connection) throws SQLException {
      String session = connection.unwrap(PGConnection.class).getBackendPID() + ":" + temporary;
      if (TEMPORARY_TABLES.contains(session)) {
        return;
      }
      try (Statement statement = connection.createStatement()) {
        statement.execute(
            "CREATE TEMP TABLE IF NOT EXISTS "
                + temporary
                + " (LIKE "
                + SqlIdentifiers.quote("table", statements.table())
                + " INCLUDING DEFAULTS, "
                + BATCH_ROW
                + " integer) ON COMMIT DELETE ROWS");
      }
      connection.commit();
      TEMPORARY_TABLES.add(session);
    }

    /**
     * Streams the batch to PostgreSQL as COPY CSV, row by row through a 64 KB buffer: no text of
     * the whole batch is ever built.
     */
    private void copy(
        PGConnection pg, List<Pending<Traced<GenericRecord>>> batch, List<Integer> indices)
        throws SQLException {
      org.postgresql.copy.CopyIn copy =
          pg.getCopyAPI()
              .copyIn(
                  "COPY "
                      + temporary
                      + " ("
                      + columns
                      + ", "
                      + BATCH_ROW
                      + ") FROM STDIN (FORMAT csv)");
      try (OutputStream out = new org.postgresql.copy.PGCopyOutputStream(copy, 1 << 16)) {
        StringBuilder row = new StringBuilder(256);
        for (int index : indices) {
          row.setLength(0);
          GenericRecord record = batch.get(index).element().value();
          List<Schema.Field> fields = schema.getFields();
          for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
              row.append(',');
            }
            Schema.Field field = fields.get(i);
            AvroColumns.csv(field.schema(), record.get(field.pos()), row);
          }
          row.append(',').append(index).append('\n');
          out.write(row.toString().getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        if (copy.isActive()) {
          copy.cancelCopy();
        }
        Throwable cause = e.getCause();
        if (cause instanceof SQLException sql) {
          throw sql;
        }
        throw new SQLException("COPY into " + temporary + " failed: " + e.getMessage(), "08000", e);
      }
    }

    private void bind(PreparedStatement statement, GenericRecord record) throws SQLException {
      int index = 1;
      for (Schema.Field field : schema.getFields()) {
        AvroColumns.bind(statement, index++, field.schema(), record.get(field.name()));
      }
    }
  }
}

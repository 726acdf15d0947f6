package dev.sluice.io.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.Progress;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.dedupe.NewestPerKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Instant;
import org.postgresql.PGConnection;

/**
 * Upserts records into a table, guarded by a version column so that a replay or an out-of-order
 * arrival never overwrites a newer row:
 *
 * <pre>INSERT INTO t (...) VALUES (...) ON CONFLICT (key) DO UPDATE SET ...
 *   WHERE t.version &lt;= EXCLUDED.version</pre>
 *
 * <p>Rows are written in batches, one transaction each, through a pooled connection. A transient
 * error (connection lost, serialization failure, deadlock) rolls the batch back and retries it with
 * exponential backoff; when the retries run out the run fails. A row the database rejects
 * (constraint, value too long, invalid encoding) is isolated by replaying its batch row by row
 * under savepoints: the other rows land and the rejected one is dead-lettered with the database's
 * message. Beam's JdbcIO has no dead-letter path, hence this sink.
 *
 * <p>Counts: rows inserted or updated are {@code written}; rows the version guard kept out (an
 * older version than the table's) are {@code filtered} as {@code stale_version}.
 */
public final class JdbcUpsert
    extends PTransform<PCollection<KV<SourceRecord, GenericRecord>>, Result<Long>> {
  public static final String STEP = "Upsert";

  // Set once by into() or by the copy a withX makes; never changed after.
  private JdbcConnection connection;
  private String table;
  private String schemaJson;
  private List<String> keyFields = List.of();
  private String versionField;
  private int batchSize = 10_000;
  private int maxRetries = 5;
  private long initialBackoffMillis = 200;
  private String pipeline;
  private boolean copy = true;
  private String published;
  private String runId;

  private JdbcUpsert() {
    super(STEP);
  }

  /** A copy with one setting changed. */
  private JdbcUpsert with(java.util.function.Consumer<JdbcUpsert> change) {
    JdbcUpsert copy = new JdbcUpsert();
    copy.connection = connection;
    copy.table = table;
    copy.schemaJson = schemaJson;
    copy.keyFields = keyFields;
    copy.versionField = versionField;
    copy.batchSize = batchSize;
    copy.maxRetries = maxRetries;
    copy.initialBackoffMillis = initialBackoffMillis;
    copy.pipeline = pipeline;
    copy.copy = this.copy;
    copy.published = published;
    copy.runId = runId;
    change.accept(copy);
    return copy;
  }

  public static JdbcUpsert into(
      JdbcConnection connection, String table, Schema schema, String pipeline) {
    SqlIdentifiers.parts("table", table);
    JdbcUpsert upsert = new JdbcUpsert();
    upsert.connection = connection;
    upsert.table = table;
    upsert.schemaJson = schema.toString();
    upsert.pipeline = pipeline;
    upsert.published = table;
    return upsert;
  }

  /**
   * Writes to another table shaped like this one (a run's staging table) while lineage keeps naming
   * the table the rows are published to.
   */
  public JdbcUpsert writingTo(String staging) {
    SqlIdentifiers.parts("table", staging);
    return with(u -> u.table = staging);
  }

  public JdbcUpsert withKeyFields(List<String> keys) {
    checkArgument(keys != null && !keys.isEmpty(), "keyFields must name at least one field");
    Schema schema = schema();
    for (String key : keys) {
      SqlIdentifiers.checkPart("keyFields", String.join(",", keys), key);
      checkArgument(
          schema.getField(key) != null,
          "key field '%s' is not a field of schema %s",
          key,
          schema.getName());
    }
    return with(u -> u.keyFields = List.copyOf(keys));
  }

  public JdbcUpsert withVersionField(String field) {
    SqlIdentifiers.checkPart("versionField", field, field);
    Schema.Field f = schema().getField(field);
    checkArgument(
        f != null, "version field '%s' is not a field of schema %s", field, schema().getName());
    Schema.Type type = AvroColumns.nonNull(f.schema()).getType();
    checkArgument(
        type == Schema.Type.LONG || type == Schema.Type.INT,
        "version field '%s' must be a long or int, but is %s",
        field,
        f.schema());
    return with(u -> u.versionField = field);
  }

  /** Rows written count toward the progress lines of this run (see {@link Progress}). */
  public JdbcUpsert withProgressOf(String runId) {
    return with(u -> u.runId = runId);
  }

  public JdbcUpsert withBatchSize(int batchSize) {
    checkArgument(batchSize > 0, "batchSize must be > 0, but was %s", batchSize);
    return with(u -> u.batchSize = batchSize);
  }

  /** Retries of a batch after a transient error, and the first backoff (doubled each time). */
  public JdbcUpsert withRetries(int maxRetries, long initialBackoffMillis) {
    checkArgument(maxRetries >= 0, "maxRetries must be >= 0, but was %s", maxRetries);
    checkArgument(
        initialBackoffMillis >= 0, "backoff must be >= 0 ms, but was %s", initialBackoffMillis);
    return with(
        u -> {
          u.maxRetries = maxRetries;
          u.initialBackoffMillis = initialBackoffMillis;
        });
  }

  /**
   * How batches reach PostgreSQL: {@code true} (the default) COPYs each batch into a temporary
   * table and merges it with one {@code INSERT ... SELECT ... ON CONFLICT}; {@code false} sends the
   * batch as prepared upserts. Either way a batch is one transaction, counted row by row, and a
   * batch with a rejected row is replayed row by row under savepoints.
   */
  public JdbcUpsert withCopy(boolean copy) {
    return with(u -> u.copy = copy);
  }

  private Schema schema() {
    return new Schema.Parser().parse(schemaJson);
  }

  /** The upsert statement, with every identifier validated and quoted. */
  public String sql() {
    return upsert("VALUES (" + String.join(", ", columns().stream().map(c -> "?").toList()) + ")");
  }

  /**
   * The same versioned upsert of every row of {@code source}, a table shaped like the target (a
   * batch's temporary table, a run's staging table): {@code INSERT ... SELECT ... ON CONFLICT}. A
   * key that appears more than once in {@code source} is merged once, with its newest version (the
   * same tie-break as the guard on equal versions), as {@code ON CONFLICT} cannot touch a row twice
   * in one statement.
   */
  public String mergeFrom(String source) {
    return mergeFrom(source, true);
  }

  /**
   * The merge from {@code source}; {@code distinct} false when every key is there once (no sorting
   * or hashing needed to pick one row per key).
   */
  String mergeFrom(String source, boolean distinct) {
    if (!distinct) {
      return upsert(
          "SELECT "
              + String.join(", ", columns())
              + " FROM "
              + SqlIdentifiers.quote("table", source));
    }
    List<String> keys = quotedKeys();
    String version = SqlIdentifiers.quotePart("versionField", versionField);
    return upsert(
        "SELECT "
            + String.join(", ", columns())
            + " FROM (SELECT DISTINCT ON ("
            + String.join(", ", keys)
            + ") "
            + String.join(", ", columns())
            + " FROM "
            + SqlIdentifiers.quote("table", source)
            + " ORDER BY "
            + String.join(", ", keys)
            + ", "
            + version
            + " DESC, "
            + rowHash(null)
            + " DESC) AS sluice_newest");
  }

  /** The schema's fields as quoted column names, in schema order. */
  List<String> columns() {
    List<String> columns = new ArrayList<>();
    for (Schema.Field field : schema().getFields()) {
      columns.add(SqlIdentifiers.quotePart("column", field.name()));
    }
    return columns;
  }

  private List<String> quotedKeys() {
    return keyFields.stream().map(k -> SqlIdentifiers.quotePart("keyFields", k)).toList();
  }

  /**
   * The tie-break between two rows of one key and one version: the MD5 of the row's text, in a UTC
   * session ({@code JdbcConnection} sets it), so that the same pair is ordered the same way by
   * every batch, every run and every order of arrival.
   */
  private String rowHash(String qualifier) {
    String prefix = qualifier == null ? "" : qualifier + ".";
    return "md5(ROW("
        + String.join(", ", columns().stream().map(c -> prefix + c).toList())
        + ")::text)";
  }

  private String upsert(String rows) {
    String quotedTable = SqlIdentifiers.quote("table", table);
    List<String> updates = new ArrayList<>();
    for (Schema.Field field : schema().getFields()) {
      if (!keyFields.contains(field.name())) {
        String column = SqlIdentifiers.quotePart("column", field.name());
        updates.add(column + " = EXCLUDED." + column);
      }
    }
    String version = SqlIdentifiers.quotePart("versionField", versionField);
    String current = quotedTable + "." + version;
    // A newer version wins; an equal version wins when its row hashes at least as high, so that
    // two different rows of one version converge to the same one whatever their order, and a
    // replay of the same row is applied (and counted) again.
    return "INSERT INTO "
        + quotedTable
        + " ("
        + String.join(", ", columns())
        + ") "
        + rows
        + " ON CONFLICT ("
        + String.join(", ", quotedKeys())
        + ") DO UPDATE SET "
        + String.join(", ", updates)
        + " WHERE "
        + current
        + " < EXCLUDED."
        + version
        + " OR ("
        + current
        + " = EXCLUDED."
        + version
        + " AND "
        + rowHash(quotedTable)
        + " <= "
        + rowHash("EXCLUDED")
        + ")";
  }

  @Override
  public Result<Long> expand(PCollection<KV<SourceRecord, GenericRecord>> input) {
    checkArgument(!keyFields.isEmpty(), "JdbcUpsert needs withKeyFields(...)");
    checkArgument(versionField != null, "JdbcUpsert needs withVersionField(...)");
    TupleTag<Long> written = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    PCollectionTuple out =
        input.apply(
            "WriteBatches",
            ParDo.of(new UpsertFn(this, sql(), written, failed))
                .withOutputTags(written, TupleTagList.of(failed)));
    out.get(written).setCoder(VarLongCoder.of());
    out.get(failed).setCoder(DeadLetters.coder());
    return Result.of(out, written, failed);
  }

  private record Pending(
      KV<SourceRecord, GenericRecord> element, BoundedWindow window, Instant timestamp) {}

  static final class UpsertFn extends DoFn<KV<SourceRecord, GenericRecord>, Long> {
    /** The sessions (backend process id and table) whose temporary batch table exists. */
    private static final java.util.Set<String> TEMPORARY_TABLES =
        java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final JdbcUpsert spec;
    private final String sql;
    private final TupleTag<Long> written;
    private final TupleTag<DeadLetter> failed;
    private final Accounting accounting;
    private final DeadLetters deadLetters;
    private transient Schema schema;
    private transient String columns;
    private transient String temporary;
    private transient String merge;
    private transient String mergeDistinct;
    private transient List<Pending> pending;
    private transient boolean reported;
    private transient JdbcRetry retry;
    private transient NewestPerKey newest;
    private transient Progress progress;

    UpsertFn(JdbcUpsert spec, String sql, TupleTag<Long> written, TupleTag<DeadLetter> failed) {
      this.spec = spec;
      this.sql = sql;
      this.written = written;
      this.failed = failed;
      this.accounting = Accounting.of(spec.pipeline);
      this.deadLetters = DeadLetters.forStep(spec.pipeline, STEP).withSchema(spec.schema());
    }

    @Setup
    public void setup() {
      schema = spec.schema();
      columns = String.join(", ", spec.columns());
      temporary = "sluice_batch_" + Integer.toHexString(spec.table.hashCode() & 0x7fffffff);
      merge = spec.mergeFrom(temporary, false);
      mergeDistinct = spec.mergeFrom(temporary, true);
      retry =
          JdbcRetry.on(spec.connection, spec.table)
              .withRetries(spec.maxRetries, spec.initialBackoffMillis);
      newest = NewestPerKey.of(spec.keyFields, spec.versionField);
      progress = spec.runId == null ? null : Progress.of(spec.pipeline, spec.runId, 0, "rows");
    }

    @StartBundle
    public void startBundle() {
      pending = new ArrayList<>();
      reported = false;
    }

    @ProcessElement
    public void process(
        @Element KV<SourceRecord, GenericRecord> element,
        BoundedWindow window,
        @Timestamp Instant timestamp,
        MultiOutputReceiver out)
        throws Exception {
      if (!reported) {
        ReportLineage.report(false, "jdbc", spec.connection.safeUrl() + "/" + spec.published);
        reported = true;
      }
      pending.add(new Pending(element, window, timestamp));
      if (pending.size() >= spec.batchSize) {
        Outcome outcome = flush();
        for (int i = 0; i < outcome.rejected.size(); i++) {
          out.get(failed)
              .output(
                  deadLetters.of(outcome.rejected.get(i).element.getKey(), outcome.errors.get(i)));
        }
        out.get(written).output(outcome.written);
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) throws Exception {
      if (pending.isEmpty()) {
        return;
      }
      Outcome outcome = flush();
      for (int i = 0; i < outcome.rejected.size(); i++) {
        Pending p = outcome.rejected.get(i);
        context.output(
            failed,
            deadLetters.of(p.element.getKey(), outcome.errors.get(i)),
            p.timestamp,
            p.window);
      }
      Pending last = outcome.batch.get(outcome.batch.size() - 1);
      context.output(written, outcome.written, last.timestamp, last.window);
    }

    /** What a flushed batch did: rows written, and rows rejected with their errors. */
    private static final class Outcome {
      final List<Pending> batch;
      final List<Pending> rejected = new ArrayList<>();
      final List<RecordException> errors = new ArrayList<>();
      long written;

      Outcome(List<Pending> batch) {
        this.batch = batch;
      }
    }

    private Outcome flush() throws Exception {
      // The newest version of each key in the batch: PostgreSQL's ON CONFLICT cannot touch a key
      // twice in one statement, and the older versions would lose to the guard anyway.
      NewestPerKey.Kept<Pending> kept = newest.keep(pending, p -> p.element.getValue());
      List<Pending> batch = kept.newest();
      pending = new ArrayList<>();
      Outcome outcome =
          retry.inTransaction(
              () -> "writing a batch of " + batch.size() + " rows to " + spec.table,
              connection -> writeBatch(connection, batch, kept.unique()));
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
    private Outcome writeBatch(Connection connection, List<Pending> batch, boolean unique)
        throws SQLException {
      if (spec.copy && connection.isWrapperFor(PGConnection.class)) {
        ensureTemporaryTable(connection);
        Savepoint beforeCopy = connection.setSavepoint();
        try {
          Outcome outcome = new Outcome(batch);
          outcome.written = copyAndMerge(connection, batch, unique);
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
          for (Pending p : batch) {
            bind(statement, p.element.getValue());
            statement.addBatch();
          }
          for (int count : statement.executeBatch()) {
            outcome.written += count > 0 ? 1 : 0;
          }
          return outcome;
        } catch (SQLException e) {
          if (!SqlErrors.isRowError(e)) {
            throw e;
          }
          connection.rollback(beforeBatch);
        }
        statement.clearBatch();
        Outcome isolated = new Outcome(batch);
        for (Pending p : batch) {
          Savepoint savepoint = connection.setSavepoint();
          try {
            bind(statement, p.element.getValue());
            isolated.written += statement.executeUpdate() > 0 ? 1 : 0;
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
                        + spec.table
                        + " (SQLState "
                        + e.getSQLState()
                        + "): "
                        + SqlErrors.message(e),
                    e));
          }
        }
        return isolated;
      }
    }

    /**
     * COPYs the batch into this session's temporary copy of the table, then merges it with the same
     * versioned upsert; returns the rows the merge inserted or updated.
     */
    private long copyAndMerge(Connection connection, List<Pending> batch, boolean unique)
        throws SQLException {
      PGConnection pg = connection.unwrap(PGConnection.class);
      String session = pg.getBackendPID() + ":" + temporary;
      try (Statement statement = connection.createStatement()) {
        try {
          copy(pg, batch);
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
                + SqlIdentifiers.quote("table", spec.table)
                + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
      }
      connection.commit();
      TEMPORARY_TABLES.add(session);
    }

    /**
     * Streams the batch to PostgreSQL as COPY CSV, row by row through a 64 KB buffer: no text of
     * the whole batch is ever built.
     */
    private void copy(PGConnection pg, List<Pending> batch) throws SQLException {
      org.postgresql.copy.CopyIn copy =
          pg.getCopyAPI()
              .copyIn("COPY " + temporary + " (" + columns + ") FROM STDIN (FORMAT csv)");
      try (java.io.OutputStream out = new org.postgresql.copy.PGCopyOutputStream(copy, 1 << 16)) {
        StringBuilder row = new StringBuilder(256);
        for (Pending p : batch) {
          row.setLength(0);
          GenericRecord record = p.element.getValue();
          List<Schema.Field> fields = schema.getFields();
          for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
              row.append(',');
            }
            Schema.Field field = fields.get(i);
            AvroColumns.csv(field.schema(), record.get(field.pos()), row);
          }
          row.append('\n');
          out.write(row.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
      } catch (java.io.IOException e) {
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

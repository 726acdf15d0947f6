package dev.sluice.io.jdbc;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.BatchingFn;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;

/**
 * Writes dead letters into a table made by the {@code sluice_dead_letters} migration, in batched
 * transactions, retrying transient errors. A dead letter that cannot be stored fails the run: it is
 * never dropped. One that the table already holds (the same record failing the same step on the
 * same attempt, met again by a rerun) is stored once (migration V6's unique index).
 */
public final class JdbcDeadLetterWriter extends PTransform<PCollection<DeadLetter>, PDone> {
  static final int BATCH = 500;
  static final int RETRIES = 5;

  private final JdbcConnection connection;
  private final String table;

  private JdbcDeadLetterWriter(JdbcConnection connection, String table) {
    this.connection = connection;
    this.table = table;
  }

  public static JdbcDeadLetterWriter into(JdbcConnection connection, String table) {
    SqlIdentifiers.parts("deadLetter", table);
    return new JdbcDeadLetterWriter(connection, table);
  }

  /** The insert; {@code sealed}: with the payload_encryption column (migration V9). */
  String sql(boolean sealed) {
    return "INSERT INTO "
        + SqlIdentifiers.quote("deadLetter", table)
        + " (pipeline, step, origin, reason, payload, payload_preview, error_class, error_message,"
        + " stack_trace, rule, attempt, failed_at, schema_name, schema_version, source_timestamp,"
        + " payload_header"
        // Only a sealed dead letter names the column, so a table made before V9 still takes the
        // clear ones; a sealed one needs it (and a missing column fails, loudly).
        + (sealed ? ", payload_encryption)" : ")")
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
        + (sealed ? ", ?)" : ")")
        // The migration's unique index keeps a dead letter met again by a rerun once; a table
        // without it takes every row.
        + " ON CONFLICT DO NOTHING";
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("jdbcUrl", connection.safeUrl()))
        .add(DisplayData.item("table", table))
        .add(DisplayData.item("batchSize", BATCH));
  }

  @Override
  public PDone expand(PCollection<DeadLetter> input) {
    input.apply(
        "InsertDeadLetters", ParDo.of(new InsertFn(connection, table, sql(false), sql(true))));
    return PDone.in(input.getPipeline());
  }

  static final class InsertFn extends BatchingFn<DeadLetter, Void> {
    private final JdbcRetry retry;
    private final String table;
    private final String sql;
    private final String sealedSql;

    InsertFn(JdbcConnection connection, String table, String sql, String sealedSql) {
      super(BATCH);
      this.retry = JdbcRetry.on(connection, table).withRetries(RETRIES, 200);
      this.table = table;
      this.sql = sql;
      this.sealedSql = sealedSql;
    }

    @Override
    protected void flush(List<Pending<DeadLetter>> batch, Emitter out) throws Exception {
      retry.inTransaction(
          () -> "storing " + batch.size() + " dead letters in " + table,
          c -> {
            boolean sealed =
                batch.stream().anyMatch(d -> d.element().getPayloadEncryption() != null);
            try (PreparedStatement statement = c.prepareStatement(sealed ? sealedSql : sql)) {
              for (Pending<DeadLetter> d : batch) {
                bind(statement, d.element());
                if (sealed) {
                  statement.setString(17, text(d.element().getPayloadEncryption()));
                }
                statement.addBatch();
              }
              return statement.executeBatch();
            }
          });
    }

    /**
     * Text a PostgreSQL text column accepts: U+0000, which it refuses, written as {@code \\u0000}
     * (the exact bytes are in the {@code payload} column).
     */
    private static String text(CharSequence value) {
      return value == null ? null : value.toString().replace("\u0000", "\\u0000");
    }

    private static void bind(PreparedStatement s, DeadLetter d) throws SQLException {
      s.setString(1, text(d.getPipeline()));
      s.setString(2, text(d.getStep()));
      s.setString(3, text(d.getOrigin()));
      s.setString(4, text(d.getReason()));
      s.setBytes(5, DeadLetterJson.bytes(d.getPayload()));
      s.setString(6, text(d.getPayloadPreview()));
      s.setString(7, text(d.getErrorClass()));
      s.setString(8, text(d.getErrorMessage()));
      s.setString(9, text(d.getStackTrace()));
      s.setString(10, text(d.getRule()));
      s.setInt(11, d.getAttempt());
      s.setObject(12, OffsetDateTime.ofInstant(d.getFailedAt(), ZoneOffset.UTC));
      s.setString(13, text(d.getSchemaName()));
      if (d.getSchemaVersion() == null) {
        s.setNull(14, Types.INTEGER);
      } else {
        s.setInt(14, d.getSchemaVersion());
      }
      if (d.getSourceTimestamp() == null) {
        s.setNull(15, Types.TIMESTAMP_WITH_TIMEZONE);
      } else {
        s.setObject(15, OffsetDateTime.ofInstant(d.getSourceTimestamp(), ZoneOffset.UTC));
      }
      s.setBytes(
          16, d.getPayloadHeader() == null ? null : DeadLetterJson.bytes(d.getPayloadHeader()));
    }
  }
}

package dev.sluice.io.jdbc;

import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a relation in parallel: one query per range (a SQL predicate with its bind values, all text
 * cast server-side), spread over workers, each row converted to Avro. A row whose values do not fit
 * its Avro type is dead-lettered with origin {@code jdbc:<relation>/<key>=<value>} and the row's
 * text as payload. Progress lines report rows so far and the rate.
 */
public final class ReadRanges extends PTransform<PBegin, Result<Traced<GenericRecord>>> {
  private static final Logger LOG = LoggerFactory.getLogger(ReadRanges.class);

  /** A progress line at most this often, per worker. */
  static final long PROGRESS_MILLIS = 10_000;

  private final JdbcConnection connection;
  private final IncrementalRead.Planned plan;
  private final String pipeline;

  private ReadRanges(JdbcConnection connection, IncrementalRead.Planned plan, String pipeline) {
    super("ReadJdbc");
    this.connection = connection;
    this.plan = plan;
    this.pipeline = pipeline;
  }

  /** Reads the ranges of {@code plan} (made by {@link IncrementalRead#plan}) from the database. */
  public static ReadRanges of(
      JdbcConnection connection, IncrementalRead.Planned plan, String pipeline) {
    return new ReadRanges(connection, plan, pipeline);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("jdbcUrl", connection.safeUrl()))
        .add(DisplayData.item("relation", plan.label()))
        .add(DisplayData.item("ranges", plan.ranges().size()))
        .addIfNotNull(DisplayData.item("watermarkLow", plan.low()))
        .addIfNotNull(DisplayData.item("watermarkHigh", plan.high()));
  }

  @Override
  public Result<Traced<GenericRecord>> expand(PBegin input) {
    TupleTag<Traced<GenericRecord>> rows = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    PCollectionTuple out =
        input
            .apply(
                "Ranges",
                Create.of(plan.ranges())
                    .withCoder(SerializableCoder.of(IncrementalRead.Range.class)))
            .apply("Spread", Reshuffle.viaRandomKey())
            .apply(
                "Query",
                ParDo.of(new QueryFn(connection, plan, pipeline, rows, failed))
                    .withOutputTags(rows, TupleTagList.of(failed)));
    out.get(rows).setCoder(Traced.coder(AvroCoder.of(plan.avro().schema())));
    out.get(failed).setCoder(DeadLetters.coder());
    return Result.of(out, rows, failed);
  }

  static final class QueryFn extends DoFn<IncrementalRead.Range, Traced<GenericRecord>> {
    private transient long rowsRead;
    private transient long started;
    private transient long lastProgress;

    private final JdbcConnection connection;
    private final IncrementalRead.Planned plan;
    private final String pipeline;
    private final TupleTag<Traced<GenericRecord>> rows;
    private final TupleTag<DeadLetter> failed;
    private final Accounting accounting;
    private final DeadLetters deadLetters;

    QueryFn(
        JdbcConnection connection,
        IncrementalRead.Planned plan,
        String pipeline,
        TupleTag<Traced<GenericRecord>> rows,
        TupleTag<DeadLetter> failed) {
      this.connection = connection;
      this.plan = plan;
      this.pipeline = pipeline;
      this.rows = rows;
      this.failed = failed;
      this.accounting = Accounting.of(pipeline);
      this.deadLetters = DeadLetters.forStep(pipeline, "ReadJdbc");
    }

    @Setup
    public void setup() {
      started = System.currentTimeMillis();
      lastProgress = started;
    }

    @ProcessElement
    public void process(@Element IncrementalRead.Range range, MultiOutputReceiver out)
        throws Exception {
      ReportLineage.report(true, "jdbc", connection.safeUrl() + "/" + plan.label());
      try (Connection c = connection.open()) {
        c.setAutoCommit(false); // lets PostgreSQL stream with the fetch size
        c.setReadOnly(true); // an export only reads, whatever its query says
        try (PreparedStatement statement = c.prepareStatement(plan.select(range))) {
          statement.setFetchSize(5_000);
          List<String> values = range.values();
          for (int i = 0; i < values.size(); i++) {
            statement.setString(i + 1, values.get(i));
          }
          long before = rowsRead;
          try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
              accounting.read().inc();
              String key =
                  plan.keyColumn() == null
                      ? "row"
                      : plan.keyColumn() + "=" + rs.getString(plan.keyColumn());
              SourceRecord source =
                  SourceRecord.of("jdbc:" + plan.label() + "/" + key, new byte[0]);
              try {
                out.get(rows).output(Traced.of(source, plan.avro().record(rs)));
              } catch (RecordException e) {
                out.get(failed)
                    .output(deadLetters.of(SourceRecord.of(source.origin(), rowText(rs)), e));
              } catch (ArithmeticException e) {
                out.get(failed)
                    .output(
                        deadLetters.of(
                            SourceRecord.of(source.origin(), rowText(rs)),
                            new RecordException(
                                FailureReason.SCHEMA,
                                "a value would be rounded: " + e.getMessage(),
                                e)));
              }
              progress();
            }
          }
          LOG.info(
              "{}: read a range of {}: {} rows ({} rows so far by this worker, {} rows/s)",
              pipeline,
              plan.label(),
              rowsRead - before,
              rowsRead,
              rowsRead * 1000 / Math.max(1, System.currentTimeMillis() - started));
        }
        c.commit();
      }
    }

    private static byte[] rowText(ResultSet rs) throws SQLException {
      StringBuilder text = new StringBuilder("{");
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        if (i > 1) {
          text.append(", ");
        }
        text.append('"').append(rs.getMetaData().getColumnLabel(i)).append("\": ");
        String value = rs.getString(i);
        text.append(value == null ? "null" : '"' + value.replace("\"", "\\\"") + '"');
      }
      return text.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private void progress() {
      rowsRead++;
      long now = System.currentTimeMillis();
      if (now - lastProgress >= PROGRESS_MILLIS) {
        lastProgress = now;
        LOG.info(
            "{}: {} rows read so far by this worker ({} rows/s)",
            pipeline,
            rowsRead,
            rowsRead * 1000 / Math.max(1, now - started));
      }
    }
  }
}

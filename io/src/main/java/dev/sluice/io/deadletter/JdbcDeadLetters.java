package dev.sluice.io.deadletter;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcDeadLetterTable;
import dev.sluice.io.jdbc.JdbcDeadLetterWriter;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import java.sql.SQLException;
import java.util.List;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;

/**
 * Dead letters as rows of a table made by the {@code sluice_dead_letters} migration ({@code
 * jdbc:<table>}). A held dead letter's key is its row id; a replay marks the row's {@code
 * replayed_at} and {@code replay_run} columns (migration V7). The SQL is in io/jdbc ({@link
 * JdbcDeadLetterWriter}, {@link JdbcDeadLetterTable}).
 */
public record JdbcDeadLetters(String table, JdbcConnection connection) implements DeadLetterSink {
  @Override
  public void checkReachable() {
    JdbcDeadLetterTable.checkExists(connection, table);
  }

  @Override
  public String location() {
    return "jdbc:" + table;
  }

  @Override
  public LineageDataset lineageDataset() {
    return LineageDataset.postgres(connection, table, DeadLetter.getClassSchema().toString());
  }

  @Override
  public List<Held> held(ReplayFilter filter) throws SQLException {
    return JdbcDeadLetterTable.unreplayed(
            connection, table, filter.pipeline(), filter.since(), filter.until(), filter::matches)
        .stream()
        .map(stored -> new Held(Long.toString(stored.id()), stored.letter()))
        .toList();
  }

  @Override
  public void markReplayed(List<String> keys, String runId) throws SQLException {
    JdbcDeadLetterTable.markReplayed(
        connection, table, keys.stream().map(Long::valueOf).toList(), runId);
  }

  @Override
  public String replayLedger() {
    return "jdbc:" + table + " (columns replayed_at, replay_run)";
  }

  @Override
  public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
    return new Write(this);
  }

  /** Writes the rows. */
  static final class Write extends DeadLetterSink.Writer<JdbcDeadLetters> {
    Write(JdbcDeadLetters sink) {
      super(sink);
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder.add(DisplayData.item("jdbcUrl", sink.connection().safeUrl()));
    }

    @Override
    public POutput expand(PCollection<DeadLetter> input) {
      return input
          .apply("Lineage", ReportLineage.sink("jdbc", sink.table()))
          .apply("WriteJdbc", JdbcDeadLetterWriter.into(sink.connection(), sink.table()));
    }
  }
}

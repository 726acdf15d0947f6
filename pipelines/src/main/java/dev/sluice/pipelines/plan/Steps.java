package dev.sluice.pipelines.plan;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.files.FileListing;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.WriteDataFiles;
import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.io.iceberg.IcebergCommit;
import dev.sluice.io.jdbc.ExportState;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.StagingTable;
import dev.sluice.io.jdbc.UpsertSql;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.kafka.KafkaOffsets;
import dev.sluice.pipelines.report.RunSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.Schema;

/** The named steps plans carry around their runs: plain values, carried out by the launcher. */
public final class Steps {
  private Steps() {}

  /** Creates a run's staging table before the run writes to it. */
  public record CreateStage(StagingTable stage) implements RunPlan.Step {
    @Override
    public String name() {
      return "create staging table " + stage.staging();
    }

    @Override
    public void run(RunSummary summary) {
      stage.create();
    }
  }

  /** Merges the staged rows into the target with the versioned upsert, and drops the stage. */
  public record MergeStage(StagingTable stage, UpsertSql into) implements RunPlan.Step {
    @Override
    public String name() {
      return "merge " + stage.staging() + " into " + stage.table();
    }

    @Override
    public void run(RunSummary summary) throws Exception {
      stage.mergeAndDrop(into);
    }
  }

  /**
   * Hard deletes: moves the rows a run marked deleted out of the table into its deleted-keys table
   * ({@link UpsertSql#purgeDeleted}), in one statement, after the run's writes are all in.
   */
  public record PurgeDeleted(JdbcConnection database, UpsertSql upsert, String deletedColumn)
      implements RunPlan.Step {
    @Override
    public String name() {
      return "purge deleted rows of " + upsert.table() + " into " + upsert.deletedKeys();
    }

    @Override
    public void run(RunSummary summary) throws Exception {
      database.execute(upsert.purgeDeleted(deletedColumn));
    }
  }

  /** Drops a staging table that is still there (a closed gate, a failed run). */
  public record DropStage(StagingTable stage) implements RunPlan.Step {
    @Override
    public String name() {
      return "drop staging table " + stage.staging();
    }

    @Override
    public void run(RunSummary summary) throws Exception {
      stage.drop();
    }
  }

  /**
   * Checks, before a stream starts, that the brokers take its login and hold its topic (a bounded
   * run checks the same while planning its offsets): a wrong password or an untrusted certificate
   * fails the run at once, naming the brokers, instead of a stream retrying forever. A step, so
   * that a template built offline does not need the brokers.
   */
  public record CheckKafkaTopic(
      String bootstrapServers, KafkaClientProperties properties, String topic)
      implements RunPlan.Step {
    @Override
    public String name() {
      return "check the login to the brokers and topic " + topic;
    }

    @Override
    public void run(RunSummary summary) {
      KafkaOffsets.checkTopic(bootstrapServers, properties, topic);
    }

    @Override
    public boolean needed() {
      return false;
    }
  }

  /** Commits a bounded read's planned stop offsets for its consumer group. */
  public record CommitOffsets(
      KafkaOffsets offsets,
      String bootstrapServers,
      KafkaClientProperties properties,
      String consumerGroup)
      implements RunPlan.Step {
    @Override
    public String name() {
      return "commit the offsets of " + offsets.topic() + " for consumer group " + consumerGroup;
    }

    @Override
    public void run(RunSummary summary) {
      offsets.commit(bootstrapServers, properties, consumerGroup);
    }
  }

  /**
   * Publishes a run's staged lake files into the lake with a {@code _SUCCESS} manifest, replacing
   * only the files whose names start with {@code own}.
   *
   * @param manifest what the manifest says about the run's source, besides the common fields
   */
  public record PublishLake(
      String pipeline,
      String schema,
      String staging,
      String output,
      List<String> own,
      LinkedHashMap<String, Object> manifest)
      implements RunPlan.Step {
    public PublishLake {
      own = List.copyOf(own);
      manifest = new LinkedHashMap<>(manifest);
    }

    @Override
    public String name() {
      return "publish the staged files into " + output;
    }

    @Override
    public void run(RunSummary summary) throws Exception {
      Map<String, Object> all =
          LakeManifest.of(pipeline, new Schema.Parser().parse(schema), summary);
      all.putAll(manifest);
      LakePublisher.publish(staging, output, own, all);
    }
  }

  /**
   * Fails, naming them, when input files changed (size or modification time) since the run listed
   * them: they were still being written, and what the run read of them is not what they hold.
   */
  public record CheckInputsUnchanged(List<FileListing.Listed> files) implements RunPlan.Step {
    public CheckInputsUnchanged {
      files = List.copyOf(files);
    }

    @Override
    public String name() {
      return "check that the " + files.size() + " input file(s) did not change while read";
    }

    @Override
    public void run(RunSummary summary) {
      List<String> changed = new ArrayList<>();
      for (FileListing.Listed file : files) {
        FileListing.Listed now = FileListing.stat(file.path());
        if (now == null) {
          changed.add(file.path() + " (gone)");
        } else if (now.size() != file.size() || now.modified() != file.modified()) {
          changed.add(
              file.path() + " (" + file.size() + " bytes when listed, " + now.size() + " now)");
        }
      }
      if (!changed.isEmpty()) {
        throw new IllegalStateException(
            changed.size()
                + " input file(s) changed while the run read them (still being written?): "
                + String.join(", ", changed.subList(0, Math.min(10, changed.size())))
                + (changed.size() > 10 ? " and " + (changed.size() - 10) + " more" : "")
                + "; nothing was published: run again once they are complete");
      }
    }
  }

  /**
   * Commits a run's listed data files to its Iceberg table in one snapshot, replacing the files of
   * the inputs it read, with the run's id, inputs, counts and contract in the snapshot summary, and
   * the columns its contract adds: to main, or to an audit {@code branch}; or ({@code publish})
   * makes what it committed to that branch part of main.
   */
  public record CommitIceberg(
      IcebergCatalog catalog,
      String table,
      String fileList,
      List<String> stems,
      String commitId,
      LinkedHashMap<String, String> properties,
      @Nullable String schemaJson,
      @Nullable String branch,
      boolean publish)
      implements RunPlan.ReportingStep {
    public CommitIceberg {
      stems = List.copyOf(stems);
      properties = new LinkedHashMap<>(properties);
    }

    /** The step that moves main to what this one committed to its branch. */
    public CommitIceberg publishing() {
      return new CommitIceberg(
          catalog, table, fileList, stems, commitId, properties, schemaJson, branch, true);
    }

    @Override
    public String name() {
      return publish
          ? "publish audit branch " + branch + " of Iceberg table " + table + " to main"
          : "commit the run's data files to Iceberg table "
              + table
              + (branch == null ? "" : " on branch " + branch);
    }

    @Override
    public Map<String, String> runAndReport(RunSummary summary) throws Exception {
      LinkedHashMap<String, String> snapshot = new LinkedHashMap<>(properties);
      snapshot.put("sluice.read", String.valueOf(summary.read()));
      snapshot.put("sluice.written", String.valueOf(summary.written()));
      snapshot.put("sluice.dead-lettered", String.valueOf(summary.deadLettered()));
      snapshot.put("sluice.filtered", String.valueOf(summary.filtered()));
      IcebergCommit.Change change =
          new IcebergCommit.Change(
              WriteDataFiles.listed(fileList), stems, snapshot, commitId, schemaJson);
      Map<String, String> reported = new LinkedHashMap<>();
      if (publish) {
        IcebergCommit.Committed committed = IcebergCommit.publish(catalog, table, change, branch);
        reported.put(
            "snapshot",
            committed.snapshotId()
                + (committed.repeated()
                    ? " (on main already)"
                    : committed.added() == 0 && committed.removed() == 0
                        ? " (main fast-forwarded to " + branch + ", which is removed)"
                        : " ("
                            + describe(committed)
                            + ", committed again on main, which had"
                            + " moved; "
                            + branch
                            + " removed)"));
        reported.put("audit branch", branch + " (published)");
        return reported;
      }
      IcebergCommit.Committed committed = IcebergCommit.commit(catalog, table, change, branch);
      String what =
          committed.snapshotId() == null
              ? "none (nothing to commit)"
              : committed.snapshotId()
                  + (committed.repeated()
                      ? " (committed already)"
                      : " (" + describe(committed) + ")");
      if (committed.snapshotId() != null && !committed.repeated()) {
        reported.put(RunSummary.WRITTEN_TO_TABLE, statistics(committed));
      }
      if (branch == null) {
        reported.put("snapshot", what);
      } else {
        reported.put(
            "audit branch",
            branch + " at snapshot " + what + ": main moves to it only when the gate opens");
      }
      return reported;
    }

    private static String statistics(IcebergCommit.Committed committed) {
      return "rows="
          + committed.records()
          + " files="
          + committed.added()
          + " bytes="
          + committed.bytes();
    }

    private static String describe(IcebergCommit.Committed committed) {
      return "+"
          + committed.added()
          + " file(s), "
          + committed.records()
          + " row(s); -"
          + committed.removed()
          + " file(s) replaced";
    }
  }

  /** Deletes a lake run's staging directory when the run did not publish it. */
  public record DiscardStaging(String staging) implements RunPlan.Step {
    @Override
    public String name() {
      return "discard the staged files in " + staging;
    }

    @Override
    public void run(RunSummary summary) throws Exception {
      LakePublisher.discard(staging);
    }
  }

  /** Commits an export's new high-watermark, with the rows the run wrote. */
  public record CommitWatermark(
      JdbcConnection connection,
      ExportState state,
      String export,
      String column,
      @Nullable String highWatermark)
      implements RunPlan.Step {
    @Override
    public String name() {
      return "commit high-watermark " + highWatermark + " of export " + export;
    }

    @Override
    public void run(RunSummary summary) throws Exception {
      connection.withDirect(
          c -> {
            state.commit(c, export, column, highWatermark, summary.written());
            return null;
          });
    }
  }

  /**
   * Marks the dead letters a replay re-fed as replayed, in the store they were read from, so that
   * the next replay skips them (those that failed again are new dead letters, with the next
   * attempt).
   */
  public record MarkReplayed(DeadLetterSink store, List<String> keys, String runId)
      implements RunPlan.Step {
    public MarkReplayed {
      keys = List.copyOf(keys);
    }

    @Override
    public String name() {
      return "mark " + keys.size() + " dead letter(s) of " + store.location() + " replayed";
    }

    @Override
    public void run(RunSummary summary) throws Exception {
      store.markReplayed(keys, runId);
    }
  }
}

package dev.sluice.io.iceberg;

import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.WrittenFile;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManageSnapshots;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SchemaParser;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * Makes a run's data files part of its table in one atomic commit: the files the run wrote are
 * added, and the table's files that belong to what the run read (their names start with one of its
 * stems: the same input files read again) are removed in the same snapshot. So a rerun of an input
 * replaces exactly that input's rows, other inputs' rows stay, and readers see the table before or
 * after, never between. Each commit carries a commit id in its snapshot summary; a commit whose id
 * the table already has does nothing (a retried step after a commit that did land).
 */
public final class IcebergCommit {
  /** The snapshot summary key of a commit's id. */
  public static final String COMMIT_ID = "sluice.commit-id";

  /** The counter of a stream's commits made. */
  public static final String COMMITS = "iceberg_commits";

  /** The counter of a stream's commits found in the table already (retried after they landed). */
  public static final String REPEATED = "iceberg_commits_repeated";

  private IcebergCommit() {}

  /**
   * What a commit did: its snapshot, the data files it added and removed, and the rows and bytes it
   * added (from the snapshot's summary).
   */
  public record Committed(
      @Nullable Long snapshotId,
      int added,
      int removed,
      long records,
      boolean repeated,
      long bytes) {
    Committed(@Nullable Long snapshotId, int added, int removed, long records, boolean repeated) {
      this(snapshotId, added, removed, records, repeated, 0);
    }
  }

  /**
   * A run's commit: its data files, the stems of the files they replace, the summary of its
   * snapshot, its id, the schema its files were written with (null: the table's), and the name
   * prefixes of files that are never replaced (a streaming run's own files of earlier windows).
   */
  public record Change(
      List<WrittenFile> files,
      List<String> stems,
      Map<String, String> summary,
      String commitId,
      @Nullable String schemaJson,
      List<String> keep) {
    public Change {
      files = List.copyOf(files);
      stems = List.copyOf(stems);
      keep = List.copyOf(keep);
    }

    /** A change that keeps no file of its stems. */
    public Change(
        List<WrittenFile> files,
        List<String> stems,
        Map<String, String> summary,
        String commitId,
        @Nullable String schemaJson) {
      this(files, stems, summary, commitId, schemaJson, List.of());
    }
  }

  /**
   * Commits {@code files} to {@code table}, replacing the files of {@code stems}, on {@code branch}
   * (null: main).
   *
   * @param summary properties of the snapshot (run, input, counts, contract)
   */
  public static Committed commit(
      IcebergCatalog catalog,
      String table,
      List<WrittenFile> files,
      List<String> stems,
      Map<String, String> summary,
      String commitId,
      @Nullable String branch)
      throws IOException {
    return commit(catalog, table, new Change(files, stems, summary, commitId, null), branch);
  }

  /** Commits {@code change} to {@code table} on {@code branch} (null: main). */
  public static Committed commit(
      IcebergCatalog catalog, String table, Change change, @Nullable String branch)
      throws IOException {
    return catalog.committing(
        opened -> commit(opened.loadTable(TableIdentifier.parse(table)), table, change, branch));
  }

  /**
   * Makes a change committed to an audit {@code branch} part of {@code main}: a fast-forward when
   * main has not moved since the branch was made, else the same change committed again on main (its
   * files replace the same inputs' files there); the branch is removed. Nothing happens twice: a
   * main that has the change's commit id already only loses the branch.
   */
  public static Committed publish(
      IcebergCatalog catalog, String table, Change change, String branch) throws IOException {
    return catalog.committing(
        opened -> {
          Table loaded = opened.loadTable(TableIdentifier.parse(table));
          Snapshot head = loaded.snapshot(branch);
          Snapshot main = loaded.currentSnapshot();
          Committed done;
          if (head != null
              && change.commitId().equals(head.summary().get(COMMIT_ID))
              && (main == null
                  || SnapshotUtil.isAncestorOf(loaded, head.snapshotId(), main.snapshotId()))) {
            ManageSnapshots manage = loaded.manageSnapshots();
            if (main == null) {
              manage.setCurrentSnapshot(head.snapshotId());
            } else {
              manage.fastForwardBranch(SnapshotRef.MAIN_BRANCH, branch);
            }
            manage.removeBranch(branch).commit();
            loaded.refresh();
            done = new Committed(head.snapshotId(), 0, 0, 0, false);
          } else {
            done = commit(loaded, table, change, null);
            if (loaded.refs().containsKey(branch)) {
              loaded.manageSnapshots().removeBranch(branch).commit();
            }
          }
          return done;
        });
  }

  private static Committed commit(
      Table loaded, String table, Change change, @Nullable String branch) throws IOException {
    Snapshot head = branch == null ? loaded.currentSnapshot() : loaded.snapshot(branch);
    if (head == null && branch != null) {
      // A new branch starts from main.
      head = loaded.currentSnapshot();
    }
    Snapshot landed = landed(loaded, head, change.commitId());
    if (landed != null) {
      return new Committed(landed.snapshotId(), 0, 0, 0, true);
    }
    Set<String> own = new HashSet<>();
    change.stems().forEach(s -> own.add(s + "-"));
    List<DataFile> replaced = owned(loaded, own, change.keep(), head);
    if (change.files().isEmpty() && replaced.isEmpty() && !TableOffsets.carried(change.summary())) {
      // Nothing to change. (A commit that moves the Kafka offsets the table holds is made even
      // without rows: its records were all dead-lettered or filtered, and are not read again.)
      return new Committed(null, 0, 0, 0, false);
    }
    Transaction transaction = loaded.newTransaction();
    if (change.schemaJson() != null) {
      Schema written = SchemaParser.fromJson(change.schemaJson());
      if (!IcebergTables.covers(loaded.schema(), written)) {
        UpdateSchema update =
            IcebergTables.evolve(
                transaction.updateSchema(), loaded.schema(), written, TableIdentifier.parse(table));
        if (!IcebergTables.covers(update.apply(), written)) {
          throw new IOException(
              "the schema of table "
                  + table
                  + " changed while the run wrote its files (now "
                  + loaded.schema().asStruct()
                  + "): nothing was committed; run again");
        }
        update.commit();
      }
    }
    List<DataFile> data = new ArrayList<>();
    List<DeleteFile> deletes = new ArrayList<>();
    long records = 0;
    for (WrittenFile file : change.files()) {
      ContentFile<?> content = contentFile(file);
      if (content instanceof DeleteFile delete) {
        deletes.add(delete);
      } else {
        data.add((DataFile) content);
        records += file.records();
      }
    }
    SnapshotUpdate<?> update;
    if (deletes.isEmpty()) {
      OverwriteFiles overwrite = transaction.newOverwrite();
      replaced.forEach(overwrite::deleteFile);
      data.forEach(overwrite::addFile);
      update = overwrite;
    } else {
      // A merge: new rows and the equality deletes of the rows they replace, in one snapshot.
      RowDelta delta = transaction.newRowDelta();
      replaced.forEach(delta::removeRows);
      data.forEach(delta::addRows);
      deletes.forEach(delta::addDeletes);
      update = delta;
    }
    change.summary().forEach(update::set);
    update.set(COMMIT_ID, change.commitId());
    if (branch != null) {
      update.toBranch(branch);
    }
    update.commit();
    transaction.commitTransaction();
    loaded.refresh();
    Snapshot after = branch == null ? loaded.currentSnapshot() : loaded.snapshot(branch);
    return new Committed(
        after == null ? null : after.snapshotId(),
        change.files().size(),
        replaced.size(),
        records,
        false,
        after == null
            ? 0
            : Long.parseLong(
                after
                    .summary()
                    .getOrDefault(org.apache.iceberg.SnapshotSummary.ADDED_FILE_SIZE_PROP, "0")));
  }

  /** The snapshot of {@code head}'s history that carries {@code commitId}, or null. */
  static @Nullable Snapshot landed(Table table, @Nullable Snapshot head, String commitId) {
    if (head == null) {
      return null;
    }
    for (Snapshot snapshot : SnapshotUtil.ancestorsOf(head.snapshotId(), table::snapshot)) {
      if (commitId.equals(snapshot.summary().get(COMMIT_ID))) {
        return snapshot;
      }
    }
    return null;
  }

  /**
   * The files of {@code current} whose names start with one of {@code prefixes} and with none of
   * {@code keep}.
   */
  private static List<DataFile> owned(
      Table table, Set<String> prefixes, List<String> keep, @Nullable Snapshot current)
      throws IOException {
    List<DataFile> owned = new ArrayList<>();
    if (current == null || prefixes.isEmpty()) {
      return owned;
    }
    try (CloseableIterable<FileScanTask> tasks =
        table.newScan().useSnapshot(current.snapshotId()).planFiles()) {
      for (FileScanTask task : tasks) {
        String location = task.file().location();
        String name = location.substring(location.lastIndexOf('/') + 1);
        if (LakePublisher.ownedBy(name, prefixes) && keep.stream().noneMatch(name::startsWith)) {
          owned.add(task.file());
        }
      }
    }
    return owned;
  }

  static ContentFile<?> contentFile(WrittenFile file) throws IOException {
    if (file.detail() == null) {
      throw new IOException(file.path() + " was listed without its Iceberg description");
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(file.detail()))) {
      return (ContentFile<?>) in.readObject();
    } catch (ClassNotFoundException e) {
      throw new IOException("cannot read the Iceberg description of " + file.path(), e);
    }
  }
}

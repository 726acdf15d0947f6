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
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;

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

  private IcebergCommit() {}

  /** What a commit did. */
  public record Committed(
      @Nullable Long snapshotId, int added, int removed, long records, boolean repeated) {}

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
    return catalog.using(opened -> commit(opened, table, files, stems, summary, commitId, branch));
  }

  private static Committed commit(
      Catalog opened,
      String table,
      List<WrittenFile> files,
      List<String> stems,
      Map<String, String> summary,
      String commitId,
      @Nullable String branch)
      throws IOException {
    Table loaded = opened.loadTable(TableIdentifier.parse(table));
    for (Snapshot snapshot : loaded.snapshots()) {
      if (commitId.equals(snapshot.summary().get(COMMIT_ID))) {
        return new Committed(snapshot.snapshotId(), 0, 0, 0, true);
      }
    }
    Set<String> own = new HashSet<>();
    stems.forEach(s -> own.add(s + "-"));
    List<DataFile> replaced = owned(loaded, own, branch);
    if (files.isEmpty() && replaced.isEmpty()) {
      return new Committed(null, 0, 0, 0, false);
    }
    OverwriteFiles overwrite = loaded.newOverwrite();
    replaced.forEach(overwrite::deleteFile);
    long records = 0;
    for (WrittenFile file : files) {
      overwrite.addFile(dataFile(file));
      records += file.records();
    }
    summary.forEach(overwrite::set);
    overwrite.set(COMMIT_ID, commitId);
    if (branch != null) {
      overwrite.toBranch(branch);
    }
    overwrite.commit();
    loaded.refresh();
    Snapshot landed = branch == null ? loaded.currentSnapshot() : loaded.snapshot(branch);
    return new Committed(
        landed == null ? null : landed.snapshotId(), files.size(), replaced.size(), records, false);
  }

  /** The table's current files whose names start with one of {@code prefixes}. */
  private static List<DataFile> owned(Table table, Set<String> prefixes, @Nullable String branch)
      throws IOException {
    List<DataFile> owned = new ArrayList<>();
    Snapshot current = branch == null ? table.currentSnapshot() : table.snapshot(branch);
    if (current == null && branch != null) {
      current = table.currentSnapshot();
    }
    if (current == null || prefixes.isEmpty()) {
      return owned;
    }
    try (CloseableIterable<FileScanTask> tasks =
        table.newScan().useSnapshot(current.snapshotId()).planFiles()) {
      for (FileScanTask task : tasks) {
        String location = task.file().location();
        if (LakePublisher.ownedBy(location.substring(location.lastIndexOf('/') + 1), prefixes)) {
          owned.add(task.file());
        }
      }
    }
    return owned;
  }

  static DataFile dataFile(WrittenFile file) throws IOException {
    if (file.detail() == null) {
      throw new IOException(file.path() + " was listed without its Iceberg description");
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(file.detail()))) {
      return (DataFile) in.readObject();
    } catch (ClassNotFoundException e) {
      throw new IOException("cannot read the Iceberg description of " + file.path(), e);
    }
  }
}

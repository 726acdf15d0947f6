package dev.sluice.io.iceberg;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.parquet.Parquet;

/**
 * Keeping an Iceberg table healthy: compaction of small files, expiry of old snapshots, removal of
 * orphan data files (written by runs that never committed). Each operation is one commit of the
 * table's own kind ({@code RewriteFiles}, {@code ExpireSnapshots}) and says what it did.
 */
public final class IcebergMaintenance {
  private IcebergMaintenance() {}

  /**
   * Rewrites, partition by partition, the data files smaller than {@code targetBytes / 2} into
   * files of about {@code targetBytes}: one {@code RewriteFiles} commit per partition that has two
   * or more small files. The rows are the same before and after. Files that delete files apply to
   * are not rewritten.
   *
   * @return per partition rewritten, {@code "<n> files -> <m> files"}
   */
  public static Map<String, String> compact(Table table, long targetBytes) throws IOException {
    Map<String, String> done = new LinkedHashMap<>();
    Map<String, List<DataFile>> small = new LinkedHashMap<>();
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return done;
    }
    PartitionSpec spec = table.spec();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        DataFile file = task.file();
        // A file that delete files apply to (a merged table's replaced rows) is left as it is:
        // rewritten without them, its deleted rows would come back under a newer sequence number.
        if (file.fileSizeInBytes() < targetBytes / 2
            && file.specId() == spec.specId()
            && task.deletes().isEmpty()) {
          small
              .computeIfAbsent(spec.partitionToPath(file.partition()), k -> new ArrayList<>())
              .add(file);
        }
      }
    }
    for (Map.Entry<String, List<DataFile>> partition : small.entrySet()) {
      List<DataFile> files = partition.getValue();
      if (files.size() < 2) {
        continue;
      }
      List<DataFile> written = rewrite(table, files, targetBytes);
      RewriteFiles rewrite = table.newRewrite();
      files.forEach(rewrite::deleteFile);
      written.forEach(rewrite::addFile);
      rewrite.validateFromSnapshot(current.snapshotId());
      rewrite.set("sluice.maintenance", "compact");
      rewrite.commit();
      done.put(
          partition.getKey().isEmpty() ? "(unpartitioned)" : partition.getKey(),
          files.size() + " files -> " + written.size() + " file(s)");
    }
    return done;
  }

  /** The rows of {@code files} (one partition's) in new files of about {@code targetBytes}. */
  private static List<DataFile> rewrite(Table table, List<DataFile> files, long targetBytes)
      throws IOException {
    List<DataFile> written = new ArrayList<>();
    StructLike partition = files.get(0).partition();
    DataWriter<Record> writer = null;
    long bytes = 0;
    try {
      for (DataFile file : files) {
        try (CloseableIterable<Record> rows =
            Parquet.read(table.io().newInputFile(file.location()))
                .project(table.schema())
                .createReaderFunc(
                    fileSchema -> GenericParquetReaders.buildReader(table.schema(), fileSchema))
                .build()) {
          for (Record row : rows) {
            if (writer == null) {
              writer = open(table, partition);
            }
            writer.write(row);
          }
        }
        bytes += file.fileSizeInBytes();
        if (writer != null && bytes >= targetBytes) {
          writer.close();
          written.add(writer.toDataFile());
          writer = null;
          bytes = 0;
        }
      }
    } finally {
      if (writer != null) {
        writer.close();
        written.add(writer.toDataFile());
      }
    }
    return written;
  }

  private static DataWriter<Record> open(Table table, StructLike partition) throws IOException {
    PartitionSpec spec = table.spec();
    String location =
        table
            .locationProvider()
            .newDataLocation(spec, partition, "compacted-" + UUID.randomUUID() + ".parquet");
    return Parquet.writeData(table.io().newOutputFile(location))
        .forTable(table)
        .withSpec(spec)
        .withPartition(spec.isUnpartitioned() ? null : partition)
        .createWriterFunc(GenericParquetWriter::create)
        .overwrite()
        .build();
  }

  /** Expires the snapshots older than {@code age} (the current one always stays); how many. */
  public static int expireSnapshots(Table table, Duration age) {
    long before = Instant.now().minus(age).toEpochMilli();
    int expired = 0;
    for (Snapshot snapshot : table.snapshots()) {
      Snapshot current = table.currentSnapshot();
      if (snapshot.timestampMillis() < before
          && (current == null || snapshot.snapshotId() != current.snapshotId())) {
        expired++;
      }
    }
    if (expired > 0) {
      table.expireSnapshots().expireOlderThan(before).retainLast(1).commit();
    }
    return expired;
  }

  /**
   * Deletes the files under the table's data directory that no snapshot references and that are
   * older than {@code age} (so that a run writing now is never touched): what runs that failed or
   * were killed before their commit left behind.
   *
   * @return the deleted files
   */
  public static List<String> removeOrphans(Table table, Duration age) throws IOException {
    if (!(table.io() instanceof SupportsPrefixOperations prefixes)) {
      throw new IllegalArgumentException(
          "the table's file system cannot list files ("
              + table.io().getClass().getSimpleName()
              + ")");
    }
    Set<String> referenced = new HashSet<>();
    for (Snapshot snapshot : table.snapshots()) {
      for (ManifestFile manifest : snapshot.dataManifests(table.io())) {
        try (ManifestReader<DataFile> files = ManifestFiles.read(manifest, table.io())) {
          for (DataFile file : files) {
            referenced.add(normalize(file.location()));
          }
        }
      }
      // A merged table's equality delete files live beside its data files: referenced, too.
      for (ManifestFile manifest : snapshot.deleteManifests(table.io())) {
        try (ManifestReader<DeleteFile> files =
            ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
          for (DeleteFile file : files) {
            referenced.add(normalize(file.location()));
          }
        }
      }
    }
    long before = Instant.now().minus(age).toEpochMilli();
    List<String> deleted = new ArrayList<>();
    for (FileInfo file : prefixes.listPrefix(table.location().replaceAll("/+$", "") + "/data/")) {
      if (file.createdAtMillis() < before && !referenced.contains(normalize(file.location()))) {
        table.io().deleteFile(file.location());
        deleted.add(file.location());
      }
    }
    return deleted;
  }

  /**
   * Removes the branches named {@code prefix*} (the audit branches of gated runs whose gate stayed
   * closed) whose head is older than {@code age}, in one commit; their snapshots go with the next
   * expiry.
   *
   * @return the removed branches
   */
  public static List<String> removeBranches(Table table, String prefix, Duration age) {
    long before = Instant.now().minus(age).toEpochMilli();
    List<String> removed = new ArrayList<>();
    org.apache.iceberg.ManageSnapshots manage = table.manageSnapshots();
    table
        .refs()
        .forEach(
            (name, ref) -> {
              if (ref.isBranch()
                  && name.startsWith(prefix)
                  && table.snapshot(ref.snapshotId()).timestampMillis() < before) {
                manage.removeBranch(name);
                removed.add(name);
              }
            });
    if (!removed.isEmpty()) {
      manage.commit();
    }
    removed.sort(null);
    return removed;
  }

  /** A location without the {@code file:} scheme's variations, for comparison. */
  private static String normalize(String location) {
    return location.replaceFirst("^file:/+", "/");
  }

  /** The number of data files of the current snapshot, and its rows. */
  public static long[] filesAndRows(Table table) throws IOException {
    long files = 0;
    long rows = 0;
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        files++;
        rows += task.file().recordCount();
      }
    }
    return new long[] {files, rows};
  }
}

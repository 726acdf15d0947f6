package dev.sluice.io.iceberg;

import java.io.IOException;
import java.util.Optional;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * The high-watermark of an incremental export into a table, kept in the snapshot summary of the
 * commit that added its rows ({@code sluice.watermark.<export>}): the data and the watermark are
 * one atomic commit, so they can never disagree.
 */
public final class TableWatermarks {
  private TableWatermarks() {}

  /** The summary key of {@code export}'s high-watermark. */
  public static String key(String export) {
    return "sluice.watermark." + export;
  }

  /**
   * The high-watermark the main branch of {@code table} holds for {@code export}: the newest commit
   * that recorded one; empty for a table that does not exist yet or that no run of it wrote.
   */
  public static Optional<String> recorded(IcebergCatalog catalog, String table, String export)
      throws IOException {
    return catalog.using(
        opened -> {
          TableIdentifier id = TableIdentifier.parse(table);
          if (!opened.tableExists(id)) {
            return Optional.<String>empty();
          }
          Table loaded = opened.loadTable(id);
          Snapshot head = loaded.currentSnapshot();
          if (head == null) {
            return Optional.<String>empty();
          }
          for (Snapshot snapshot : SnapshotUtil.ancestorsOf(head.snapshotId(), loaded::snapshot)) {
            String value = snapshot.summary().get(key(export));
            if (value != null) {
              return Optional.of(value);
            }
          }
          return Optional.<String>empty();
        });
  }
}

package dev.sluice.io.iceberg;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * The Kafka offsets a table holds the records of, kept in the snapshot summaries of the commits
 * that added them: {@code sluice.kafka-offsets.<topic> = <partition>=<next offset>,...}. They are
 * written in the same atomic commit as the data, so the table and its position never disagree; a
 * run starts from them whatever its consumer group committed (a run that died between its table
 * commit and its offset commit, or a run under another group, reads nothing twice).
 */
public final class TableOffsets {
  private TableOffsets() {}

  /** The summary key of {@code topic}'s offsets. */
  public static String key(String topic) {
    return "sluice.kafka-offsets." + topic;
  }

  /** Whether a commit's summary carries Kafka offsets. */
  static boolean carried(Map<String, String> summary) {
    return summary.keySet().stream().anyMatch(k -> k.startsWith("sluice.kafka-offsets."));
  }

  /** The summary value: {@code <partition>=<next offset>} pairs. */
  public static String format(Map<Integer, Long> next) {
    StringBuilder out = new StringBuilder();
    new TreeMap<>(next)
        .forEach(
            (p, o) -> out.append(out.length() == 0 ? "" : ",").append(p).append('=').append(o));
    return out.toString();
  }

  static Map<Integer, Long> parse(String value) {
    Map<Integer, Long> next = new TreeMap<>();
    for (String pair : value.split(",")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        next.put(Integer.parseInt(pair.substring(0, eq)), Long.parseLong(pair.substring(eq + 1)));
      }
    }
    return next;
  }

  /**
   * The next offset to read of each partition, by what the main branch of {@code table} holds (the
   * highest over its history); empty for a new table or one no run of this key wrote.
   */
  public static Map<Integer, Long> recorded(IcebergCatalog catalog, String table, String key)
      throws IOException {
    return catalog.using(
        opened -> {
          Table loaded = opened.loadTable(TableIdentifier.parse(table));
          Map<Integer, Long> next = new TreeMap<>();
          Snapshot head = loaded.currentSnapshot();
          if (head == null) {
            return next;
          }
          for (Snapshot snapshot : SnapshotUtil.ancestorsOf(head.snapshotId(), loaded::snapshot)) {
            String value = snapshot.summary().get(key);
            if (value != null) {
              parse(value).forEach((p, o) -> next.merge(p, o, Math::max));
            }
          }
          return next;
        });
  }
}

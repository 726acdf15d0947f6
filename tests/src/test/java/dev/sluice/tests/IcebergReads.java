package dev.sluice.tests;

import dev.sluice.io.iceberg.IcebergCatalog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import javax.annotation.Nullable;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/** Reads a table of a warehouse's embedded catalog with Iceberg's generic reader, for tests. */
final class IcebergReads {
  private IcebergReads() {}

  /** The embedded SQLite catalog of {@code warehouse}. */
  static IcebergCatalog catalog(Path warehouse) {
    return new IcebergCatalog(
        "jdbc:sqlite:" + warehouse.resolve("sluice-catalog.db"), warehouse.toString(), null, null);
  }

  /**
   * Each row of {@code table} ({@code namespace.table}) at its current snapshot, or at {@code
   * snapshot}, as {@code each} renders it, sorted.
   */
  static <T extends Comparable<T>> List<T> rows(
      Path warehouse, String table, @Nullable Long snapshot, Function<Record, T> each)
      throws Exception {
    return catalog(warehouse)
        .using(
            c -> {
              IcebergGenerics.ScanBuilder scan =
                  IcebergGenerics.read(c.loadTable(TableIdentifier.parse(table)));
              if (snapshot != null) {
                scan = scan.useSnapshot(snapshot);
              }
              List<T> rows = new ArrayList<>();
              try (CloseableIterable<Record> all = scan.build()) {
                all.forEach(r -> rows.add(each.apply(r)));
              }
              rows.sort(null);
              return rows;
            });
  }

  /**
   * Each order of {@code table} as {@code order_id:version:coupon:points}, sorted: the fields a
   * schema change adds, {@code -} while the table has no such column.
   */
  static List<String> ordersWithNewFields(Path warehouse, String table) throws Exception {
    return rows(
        warehouse,
        table,
        null,
        r ->
            r.getField("order_id")
                + ":"
                + r.getField("version")
                + ":"
                + (r.struct().field("coupon") == null ? "-" : r.getField("coupon"))
                + ":"
                + (r.struct().field("points") == null ? "-" : r.getField("points")));
  }

  /** As {@link #rows}, or none while the table cannot be read yet (a stream's first commit). */
  static <T extends Comparable<T>> List<T> rowsOrNone(
      Path warehouse, String table, Function<Record, T> each) {
    try {
      return rows(warehouse, table, null, each);
    } catch (Exception e) {
      return List.of();
    }
  }
}

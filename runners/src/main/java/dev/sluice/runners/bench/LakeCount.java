package dev.sluice.runners.bench;

import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.iceberg.IcebergCatalog;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;

/** Counts the records of a local lake's data files ({@code dt=*}/*.avro), or of a bench table. */
final class LakeCount {
  /** The table the Iceberg scenarios write. */
  static final String TABLE = "bench.orders";

  private LakeCount() {}

  /** The embedded catalog of a scenario's warehouse, {@code <work>/warehouse}. */
  static IcebergCatalog benchCatalog(Path work) {
    Path warehouse = work.resolve("warehouse");
    return new IcebergCatalog(
        "jdbc:sqlite:" + warehouse.resolve("sluice-catalog.db"), warehouse.toString(), null, null);
  }

  /** The rows of the bench table's current snapshot, as its summary counts them. */
  static long icebergRows(Path work) throws Exception {
    return benchCatalog(work)
        .using(
            catalog -> {
              org.apache.iceberg.Snapshot current =
                  catalog
                      .loadTable(org.apache.iceberg.catalog.TableIdentifier.parse(TABLE))
                      .currentSnapshot();
              return current == null ? 0L : Long.parseLong(current.summary().get("total-records"));
            });
  }

  static long count(Path lake) throws IOException {
    long count = 0;
    for (Path file : LakePublisher.dataFiles(lake)) {
      try (DataFileReader<GenericRecord> reader =
          new DataFileReader<>(file.toFile(), new GenericDatumReader<>())) {
        while (reader.hasNext()) {
          reader.next();
          count++;
        }
      }
    }
    return count;
  }
}

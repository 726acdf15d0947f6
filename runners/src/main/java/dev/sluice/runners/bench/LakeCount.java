package dev.sluice.runners.bench;

import dev.sluice.io.files.LakePublisher;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;

/** Counts the records of a local lake's data files ({@code dt=*}/*.avro). */
final class LakeCount {
  private LakeCount() {}

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

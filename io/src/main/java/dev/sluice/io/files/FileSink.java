package dev.sluice.io.files;

import java.io.IOException;
import java.io.Serializable;
import org.apache.avro.generic.GenericRecord;

/**
 * A format of data files that {@link WriteDataFiles} writes: Avro files of a directory lake,
 * Parquet data files of an Iceberg table. A plain serializable value; {@link #setup} runs once per
 * DoFn instance on the worker, before any file is opened.
 */
public interface FileSink extends Serializable {
  /** Worker-side set-up (a catalog connection, a table's metadata). */
  default void setup() throws IOException {}

  /** The partition of a record, as a path such as {@code dt=2026-11-25}. */
  String partition(GenericRecord record);

  /**
   * The layout of the files opened now, as of the last {@link #partition} call: when it changes (an
   * Iceberg table gained columns the run's records fill), records go to new files, and the files
   * opened before keep their own layout.
   */
  default int layout() {
    return 0;
  }

  /** Opens a new file of {@code partition} whose name starts with {@code stem + "-"}. */
  OpenFile open(String partition, String stem) throws IOException;

  /** Releases what {@link #setup} took. */
  default void teardown() {}

  /** A file being written. */
  interface OpenFile {
    void write(GenericRecord record) throws IOException;

    /** Closes the file and says what was written. */
    WrittenFile close() throws IOException;
  }
}

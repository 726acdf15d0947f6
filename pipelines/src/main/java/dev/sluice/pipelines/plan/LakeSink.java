package dev.sluice.pipelines.plan;

import dev.sluice.io.iceberg.MergeIcebergRows;
import dev.sluice.transforms.core.Traced;
import java.io.Serializable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.values.PCollection;

/** How a lake pipeline's records reach its table: appended, or merged by key. */
public sealed interface LakeSink extends Serializable {
  /** Where the records go, for lineage and the append. */
  LakeTarget lake();

  /** Every record appended (or, for files, replacing its input's files). */
  record Append(LakeTarget lake) implements LakeSink {}

  /** The newest version of each key replaces the table's row ({@link MergeIcebergRows}). */
  record Merge(LakeTarget lake, MergeIcebergRows write) implements LakeSink {}

  /** Applies the write to {@code records}; {@code pipeline} names its counters. */
  default void write(PCollection<Traced<GenericRecord>> records, Schema schema, String pipeline) {
    if (this instanceof Merge merge) {
      records.apply("MergeLake", merge.write());
    } else {
      records.apply("WriteLake", lake().transform(schema, pipeline, null));
    }
  }
}

package dev.sluice.pipelines.core;

import dev.sluice.io.files.WriteLake;
import java.io.Serializable;
import javax.annotation.Nullable;
import org.apache.avro.Schema;

/**
 * Where and how a lake pipeline writes its files, as a plan's value.
 *
 * @param directory where the files are written (a run's staging directory, or the lake)
 * @param publishedAt where readers find them, for lineage
 * @param partitionField the timestamp or date field whose date partitions the files
 * @param numShards files per partition and input (0: the runner decides)
 * @param stem every file's name stem, or null to name files after each record's input file
 */
public record LakeTarget(
    String directory,
    String publishedAt,
    String partitionField,
    int numShards,
    @Nullable String stem)
    implements Serializable {

  /** The write of {@code schema}'s records; {@code pipeline} names its counters. */
  public WriteLake transform(Schema schema, String pipeline) {
    WriteLake write =
        WriteLake.to(directory, schema, pipeline)
            .withPartitionField(partitionField)
            .withNumShards(numShards);
    if (!directory.equals(publishedAt)) {
      write = write.withPublishedLocation(publishedAt);
    }
    String fixed = stem;
    return fixed == null ? write : write.withFileStem(r -> fixed);
  }
}

package dev.sluice.pipelines.core;

import dev.sluice.io.files.AvroFiles;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.WriteDataFiles;
import dev.sluice.io.files.WriteLake;
import dev.sluice.transforms.core.Traced;
import java.io.Serializable;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;

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

  /**
   * The write of {@code schema}'s records; {@code pipeline} names its counters. A staged run (its
   * directory is not where its files are published) writes each bundle's records to files of their
   * own, listed for the publish step ({@link WriteDataFiles}): nothing is grouped or held in
   * memory. A run straight into the lake (watching, an object store) writes through Beam's {@code
   * FileIO}, {@code --numShards} files per partition and input.
   */
  public PTransform<PCollection<Traced<GenericRecord>>, ? extends POutput> transform(
      Schema schema, String pipeline) {
    String fixed = stem;
    if (!directory.equals(publishedAt)) {
      WriteDataFiles write =
          WriteDataFiles.to(
              AvroFiles.in(directory, schema, partitionField),
              directory.replaceAll("/+$", "") + "/" + LakePublisher.FILE_LIST,
              pipeline,
              "file:" + publishedAt);
      return fixed == null ? write : write.withStem(r -> fixed);
    }
    WriteLake write =
        WriteLake.to(directory, schema, pipeline)
            .withPartitionField(partitionField)
            .withNumShards(numShards);
    return fixed == null ? write : write.withFileStem(r -> fixed);
  }
}

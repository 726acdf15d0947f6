package dev.sluice.pipelines.filestolake;

import dev.sluice.pipelines.options.DeadLetterOptions;
import dev.sluice.pipelines.options.IcebergOptions;
import dev.sluice.pipelines.options.LakeFileOptions;
import dev.sluice.pipelines.options.OptionPattern;
import dev.sluice.pipelines.options.RecordFormat;
import dev.sluice.pipelines.options.RulesOptions;
import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.options.SchemaOptions;
import dev.sluice.pipelines.options.TransformOptions;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code files-to-lake}. */
public interface FilesToLakeOptions
    extends DeadLetterOptions,
        RulesOptions,
        IcebergOptions,
        LakeFileOptions,
        SchemaOptions,
        SchemaChangeOptions,
        TransformOptions {
  @Description("Glob of the input files, e.g. /data/in/orders-*.csv")
  @Validation.Required
  String getInput();

  void setInput(String value);

  // No @Default: Beam options are global by name, and kafka-to-jdbc's --format defaults to json.
  @Description(
      "Format of the input lines: csv (with a header row) or jsonl (one object per line);"
          + " default csv")
  @OptionPattern("^(csv|jsonl|json)$")
  RecordFormat getFormat();

  void setFormat(RecordFormat value);

  @Description("Directory of the lake: Avro files are written under <output>/dt=<yyyy-MM-dd>/")
  @Validation.Required
  String getOutput();

  void setOutput(String value);

  // No @Default: Beam options are global by name, and jdbc-to-lake's defaults to its watermark.
  @Description("Timestamp or date field whose UTC date partitions the output; default created_at")
  String getPartitionField();

  void setPartitionField(String value);

  @Description(
      "Watching, or a lake on an object store: files per partition and input file (per window"
          + " when watching); 0: the runner decides. A bounded run into a local lake writes one"
          + " file per bundle, partition and input file, without grouping its records first")
  @Default.Integer(1)
  Integer getNumShards();

  void setNumShards(Integer value);

  @Description(
      "Keep watching the glob for new files at this ISO-8601 interval, e.g. PT30S (streaming); "
          + "unset: read the files present and stop")
  @OptionPattern("^P(T?[0-9.]+[A-Z])+$")
  String getWatch();

  void setWatch(String value);

  @Description(
      "With --watch: a file is read once it has not changed for this ISO-8601 interval and ends"
          + " with a line break (a compressed file: once it has not changed for this long), so a"
          + " file still being written is never read in part")
  @Default.String("PT10S")
  @OptionPattern("^P(T?[0-9.]+[A-Z])+$")
  String getSettleTime();

  void setSettleTime(String value);

  @Description(
      "A line longer than this many bytes is not read into memory: it is dead-lettered (reason"
          + " parse) with its origin and its first bytes")
  @Default.Integer(64 << 20)
  Integer getMaxLineBytes();

  void setMaxLineBytes(Integer value);

  @Description(
      "Bounded: an uncompressed input file larger than this many bytes is read as ranges of about"
          + " this size, in parallel (line numbers in origins are kept)")
  @Default.Long(64L << 20)
  Long getReadSplitBytes();

  void setReadSplitBytes(Long value);

  @Description(
      "Succeed with nothing to do when the glob matches no file (otherwise it is an error)")
  @Default.Boolean(false)
  Boolean getAllowEmptyInput();

  void setAllowEmptyInput(Boolean value);
}

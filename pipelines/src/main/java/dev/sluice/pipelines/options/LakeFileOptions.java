package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** The format of a directory lake's data files. */
public interface LakeFileOptions extends PipelineOptions {
  @Description(
      "Data files of a directory lake (--output=<dir>): avro, or parquet (columns in the types"
          + " Trino, Spark and DuckDB read natively; written by bounded runs into a local lake)."
          + " An Iceberg table's files are Parquet whatever this says")
  @Default.String("avro")
  @OptionPattern("^(avro|parquet)$")
  String getFileFormat();

  void setFileFormat(String value);
}

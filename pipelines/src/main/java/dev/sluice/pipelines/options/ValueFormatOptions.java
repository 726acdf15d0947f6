package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How Kafka values are encoded: kafka-to-jdbc's and kafka-to-lake's. */
public interface ValueFormatOptions extends PipelineOptions {
  // No @Default: Beam options are global by name, and files-to-lake's --format defaults to csv.
  @Description(
      "Encoding of the Kafka values: json (one object per message) or avro (Avro binary);"
          + " default json")
  @OptionPattern("^(json|avro)$")
  RecordFormat getFormat();

  void setFormat(RecordFormat value);

  @Description(
      "Released version of --schema that plain Avro binary values were written with (values in"
          + " Avro single-object encoding name their version themselves); default: the current")
  Integer getWriterSchemaVersion();

  void setWriterSchemaVersion(Integer value);
}

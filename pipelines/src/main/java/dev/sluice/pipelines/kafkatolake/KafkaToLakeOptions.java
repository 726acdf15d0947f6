package dev.sluice.pipelines.kafkatolake;

import dev.sluice.pipelines.options.OptionPattern;
import dev.sluice.pipelines.options.RecordFormat;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code kafka-to-lake}: the shared ones, and how its values are encoded and versioned.
 */
public interface KafkaToLakeOptions extends LakeEventsOptions {
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

  @Description("Version field: a row is only replaced by a record of a newer version")
  @Default.String("version")
  String getVersionField();

  void setVersionField(String value);
}

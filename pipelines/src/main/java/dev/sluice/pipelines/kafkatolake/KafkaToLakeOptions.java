package dev.sluice.pipelines.kafkatolake;

import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.options.TransformOptions;
import dev.sluice.pipelines.options.ValueFormatOptions;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code kafka-to-lake}: the shared ones, and how its values are encoded and versioned.
 */
public interface KafkaToLakeOptions
    extends LakeEventsOptions, ValueFormatOptions, TransformOptions, SchemaChangeOptions {
  @Description("Version field: a row is only replaced by a record of a newer version")
  @Default.String("version")
  String getVersionField();

  void setVersionField(String value);
}

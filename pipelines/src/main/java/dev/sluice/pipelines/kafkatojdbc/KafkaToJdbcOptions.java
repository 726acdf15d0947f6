package dev.sluice.pipelines.kafkatojdbc;

import dev.sluice.pipelines.options.ValueFormatOptions;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code kafka-to-jdbc}: the shared ones, and how its values are encoded and versioned.
 */
public interface KafkaToJdbcOptions extends KafkaTableOptions, ValueFormatOptions {
  @Description("Version field: a row is only replaced by a record of the same or a newer version")
  @Default.String("version")
  String getVersionField();

  void setVersionField(String value);
}

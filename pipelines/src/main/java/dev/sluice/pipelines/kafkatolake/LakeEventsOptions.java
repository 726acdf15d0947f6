package dev.sluice.pipelines.kafkatolake;

import dev.sluice.pipelines.options.DeadLetterOptions;
import dev.sluice.pipelines.options.IcebergOptions;
import dev.sluice.pipelines.options.KafkaSourceOptions;
import dev.sluice.pipelines.options.OptionPattern;
import dev.sluice.pipelines.options.RulesOptions;
import dev.sluice.pipelines.options.SchemaOptions;
import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/**
 * What kafka-to-lake and cdc-to-lake share: the topic read, the Iceberg table written (appended, or
 * merged by key), dead letters and rules.
 */
public interface LakeEventsOptions
    extends KafkaSourceOptions, DeadLetterOptions, RulesOptions, SchemaOptions, IcebergOptions {
  @Description(
      "The Iceberg table written, iceberg:<namespace>.<table>; made from the contract when it"
          + " does not exist")
  @Validation.Required
  String getOutput();

  void setOutput(String value);

  @Description(
      "Timestamp field that gives event time; a new table is partitioned by its day (unless"
          + " --partitionBy says otherwise). Unset: the Kafka record timestamp is the event time,"
          + " and a new table is unpartitioned")
  String getEventTimeField();

  void setEventTimeField(String value);

  @Description(
      "Bounded: offsets per read chunk; a partition's planned range is cut into chunks read in"
          + " parallel, each flowing on to the sink as it is read")
  @Default.Long(50_000)
  Long getReadChunkRecords();

  void setReadChunkRecords(Long value);

  // No @Default: Beam options are global by name (kafka-to-jdbc's defaults to the table's key).
  @Description(
      "Merge by these comma-separated key fields: the newest version of each key (--versionField)"
          + " replaces the table's row, an older one never does; unset: append every event")
  List<String> getKeyFields();

  void setKeyFields(List<String> value);

  @Description(
      "Streaming: how long after the first record of a commit the table commit is made"
          + " (ISO-8601, e.g. PT1M); one Iceberg snapshot per interval, then the offsets are"
          + " committed for the consumer group")
  @Default.String("PT1M")
  @OptionPattern("^P(T?[0-9.]+[A-Z])+$")
  String getCommitInterval();

  void setCommitInterval(String value);
}

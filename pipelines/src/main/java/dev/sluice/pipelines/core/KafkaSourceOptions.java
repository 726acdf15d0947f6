package dev.sluice.pipelines.core;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** A Kafka topic to read. */
public interface KafkaSourceOptions extends SluiceOptions {
  @Description("Kafka brokers, host:port[,host:port...]")
  @Validation.Required
  String getBootstrapServers();

  void setBootstrapServers(String value);

  @Description("Kafka topic to read")
  @Validation.Required
  String getTopic();

  void setTopic(String value);

  @Description(
      "Consumer group: a bounded run starts from its committed offsets and commits what it read;"
          + " a streaming run commits offsets on finalize. Unset: read from the beginning, commit nothing")
  String getConsumerGroup();

  void setConsumerGroup(String value);

  @Description(
      "Properties file of Kafka client settings (SASL/SSL, ...), read where clients are created")
  String getKafkaProperties();

  void setKafkaProperties(String value);

  @Description(
      "Read up to the end offsets seen at start, then stop with a run summary (otherwise: stream"
          + " until cancelled)")
  @Default.Boolean(false)
  Boolean getBounded();

  void setBounded(Boolean value);

  @Description(
      "With --bounded: stop before the first record at or after this ISO-8601 time in each"
          + " partition (e.g. 2026-11-25T00:00:00Z), or at its end offset if none is that late")
  String getStopReadTime();

  void setStopReadTime(String value);

  @Description(
      "With --bounded: a backfill. Start at the first record at or after this ISO-8601 time in"
          + " each partition, whatever the consumer group committed; without --consumerGroup the"
          + " run commits nothing, with it the group's offsets only ever move forward")
  String getStartReadTime();

  void setStartReadTime(String value);
}

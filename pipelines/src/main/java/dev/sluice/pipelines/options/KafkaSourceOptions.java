package dev.sluice.pipelines.options;

import dev.sluice.io.kafka.KafkaClientProperties;
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
      "Consumer group: a bounded run starts from its committed offsets and commits what it read"
          + " once it is written; a streaming run commits offsets once what it read is written"
          + " (kafka-to-jdbc: on checkpoint finalize; kafka-to-lake: after each table commit)."
          + " Unset: read from the beginning (kafka-to-lake: from the table's offsets), commit"
          + " nothing")
  String getConsumerGroup();

  void setConsumerGroup(String value);

  @Description(
      "Properties file of Kafka client settings (SASL/SSL, ...), read where clients are created."
          + " It must lie in a directory of SLUICE_SECRET_DIRS; credentials in it may be env:/file:"
          + " references; settings Sluice owns (bootstrap.servers, group.id, isolation.level, ...)"
          + " are refused")
  String getKafkaProperties();

  void setKafkaProperties(String value);

  @Description(
      "How transactional records are read: read_committed (records of aborted transactions are"
          + " never loaded, open ones only once committed; a bounded run ends at the last stable"
          + " offsets) or read_uncommitted (every record, aborted ones included)")
  @Default.Enum("read_committed")
  KafkaClientProperties.Isolation getKafkaIsolationLevel();

  void setKafkaIsolationLevel(KafkaClientProperties.Isolation value);

  /** The Kafka client settings of these options. */
  final class Clients {
    private Clients() {}

    /** The properties file and the isolation level the options give, checked. */
    public static KafkaClientProperties of(KafkaSourceOptions options) {
      return KafkaClientProperties.of(
          options.getKafkaProperties(), options.getKafkaIsolationLevel());
    }
  }

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

package dev.sluice.pipelines.kafkatolake;

import dev.sluice.io.iceberg.WriteIcebergWindows;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.kafka.KafkaOffsets;
import java.util.Map;

/**
 * Commits a window's next offsets for the consumer group, once the Iceberg commit that holds its
 * records landed (never moving the group back).
 */
record GroupOffsets(
    String bootstrapServers, KafkaClientProperties properties, String group, String topic)
    implements WriteIcebergWindows.AfterCommit {
  @Override
  public void committed(Map<Integer, Long> next) {
    KafkaOffsets.commitNext(bootstrapServers, properties, group, topic, next);
  }
}

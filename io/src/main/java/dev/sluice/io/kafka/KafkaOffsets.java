package dev.sluice.io.kafka;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.secrets.Redaction;
import dev.sluice.transforms.core.RunTag;
import java.io.Serializable;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a bounded read of a topic reads, fixed when the run is planned: for each partition with
 * records to read, {@code [start, stop)} from the consumer group's committed offset (or the
 * beginning) to the end offset then (or the first offset at or after a stop time). A plain value:
 * {@link KafkaSource#withOffsets} reads it, {@link #commit} commits its stop offsets after the run.
 *
 * @param topic the topic
 * @param ranges the partitions' ranges, partitions in order, empty ones left out
 */
public record KafkaOffsets(String topic, List<KafkaOffsets.Range> ranges) implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaOffsets.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** Offsets {@code [start, stop)} of one partition. */
  public record Range(int partition, long start, long stop) implements Serializable {
    public Range {
      checkArgument(
          0 <= start && start <= stop, "offsets must be 0 <= start <= stop: %s, %s", start, stop);
    }

    public long size() {
      return stop - start;
    }
  }

  public KafkaOffsets {
    ranges = List.copyOf(ranges);
  }

  /** Offsets to read in all. */
  public long records() {
    return ranges.stream().mapToLong(Range::size).sum();
  }

  /**
   * Asks the brokers what a bounded read of {@code topic} reads now.
   *
   * @param group the consumer group whose committed offsets the read starts from, or null to start
   *     at the beginning
   * @param stopReadTime stop before the first record at or after this time (epoch millis), or null
   *     to stop at the end offsets
   */
  public static KafkaOffsets plan(
      String bootstrapServers,
      KafkaClientProperties properties,
      String topic,
      @Nullable String group,
      @Nullable Long stopReadTime) {
    return plan(bootstrapServers, properties, topic, group, null, stopReadTime);
  }

  /**
   * As {@link #plan(String, KafkaClientProperties, String, String, Long)}, starting a backfill at
   * {@code startReadTime} (epoch millis): each partition from its first record at or after that
   * time, whatever the group committed (a partition with no such record has nothing to read).
   */
  public static KafkaOffsets plan(
      String bootstrapServers,
      KafkaClientProperties properties,
      String topic,
      @Nullable String group,
      @Nullable Long startReadTime,
      @Nullable Long stopReadTime) {
    return plan(bootstrapServers, properties, topic, group, startReadTime, stopReadTime, Map.of());
  }

  /**
   * As {@link #plan(String, KafkaClientProperties, String, String, Long, Long)}, never starting a
   * partition before {@code floor}'s offset for it (what the target already holds, by partition),
   * unless {@code startReadTime} asks for a window.
   */
  public static KafkaOffsets plan(
      String bootstrapServers,
      KafkaClientProperties properties,
      String topic,
      @Nullable String group,
      @Nullable Long startReadTime,
      @Nullable Long stopReadTime,
      Map<Integer, Long> floor) {
    checkArgument(
        startReadTime == null || stopReadTime == null || startReadTime < stopReadTime,
        "startReadTime must be before stopReadTime, but was %s >= %s",
        startReadTime,
        stopReadTime);
    Map<TopicPartition, long[]> plan =
        new TreeMap<>(Comparator.comparingInt(TopicPartition::partition));
    try (Consumer<byte[], byte[]> consumer =
        properties.consumerFactory().apply(config(bootstrapServers, group))) {
      List<PartitionInfo> infos = partitions(consumer, bootstrapServers, properties, topic);
      List<TopicPartition> partitions =
          infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<TopicPartition, OffsetAndMetadata> committed =
          group == null || startReadTime != null
              ? Map.of()
              : consumer.committed(Set.copyOf(partitions), TIMEOUT);
      Map<TopicPartition, OffsetAndTimestamp> atStartTime =
          startReadTime == null ? Map.of() : offsetsAt(consumer, partitions, startReadTime);
      Map<TopicPartition, OffsetAndTimestamp> atStopTime =
          stopReadTime == null ? Map.of() : offsetsAt(consumer, partitions, stopReadTime);
      for (TopicPartition partition : partitions) {
        OffsetAndMetadata done = committed.get(partition);
        long start = done != null ? done.offset() : begin.get(partition);
        start = Math.max(start, floor.getOrDefault(partition.partition(), 0L));
        if (startReadTime != null) {
          OffsetAndTimestamp from = atStartTime.get(partition);
          start = from != null ? from.offset() : end.get(partition);
        }
        if (start < begin.get(partition)) {
          // Retention deleted records the group never read: they cannot be read any more.
          LOG.warn(
              "Offsets [{}, {}) of {} were deleted by retention before consumer group {} read"
                  + " them; reading from {}",
              start,
              begin.get(partition),
              partition,
              group,
              begin.get(partition));
          start = begin.get(partition);
        }
        OffsetAndTimestamp first = atStopTime.get(partition);
        long stop = first != null ? first.offset() : end.get(partition);
        if (start < stop) {
          plan.put(partition, new long[] {start, stop});
        }
      }
    }
    return new KafkaOffsets(
        topic,
        plan.entrySet().stream()
            .map(e -> new Range(e.getKey().partition(), e.getValue()[0], e.getValue()[1]))
            .toList());
  }

  /**
   * Commits, for {@code group}, the stop offset of each planned partition, never moving the group
   * back: a partition the group has already committed further (a backfill of an earlier window) is
   * left as it is.
   */
  public void commit(String bootstrapServers, KafkaClientProperties properties, String group) {
    checkArgument(group != null && !group.isBlank(), "commit needs a consumer group");
    if (ranges.isEmpty()) {
      return;
    }
    try (Consumer<byte[], byte[]> consumer =
        properties.consumerFactory().apply(config(bootstrapServers, group))) {
      Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
      for (Range range : ranges) {
        offsets.put(
            new TopicPartition(topic, range.partition()), new OffsetAndMetadata(range.stop()));
      }
      Map<TopicPartition, OffsetAndMetadata> committed =
          consumer.committed(offsets.keySet(), TIMEOUT);
      offsets
          .entrySet()
          .removeIf(
              e ->
                  committed.get(e.getKey()) != null
                      && committed.get(e.getKey()).offset() >= e.getValue().offset());
      if (!offsets.isEmpty()) {
        consumer.commitSync(offsets, TIMEOUT);
      }
    }
  }

  /**
   * Commits {@code next} (the next offset to read, by partition of {@code topic}) for {@code
   * group}, never moving a partition back: what a sink does once the records before those offsets
   * are in its target.
   */
  public static void commitNext(
      String bootstrapServers,
      KafkaClientProperties properties,
      String group,
      String topic,
      Map<Integer, Long> next) {
    upTo(topic, next).commit(bootstrapServers, properties, group);
  }

  /** The offsets of {@code topic} up to {@code next} (by partition): what a group commits. */
  public static KafkaOffsets upTo(String topic, Map<Integer, Long> next) {
    return new KafkaOffsets(
        topic,
        new TreeMap<>(next)
            .entrySet().stream().map(e -> new Range(e.getKey(), 0, e.getValue())).toList());
  }

  /** The stop offset of each planned partition: the next offset to read after this read. */
  public Map<Integer, Long> next() {
    Map<Integer, Long> next = new TreeMap<>();
    ranges.forEach(r -> next.put(r.partition(), r.stop()));
    return next;
  }

  /**
   * Fails, naming the brokers, unless the login to them works and {@code topic} exists there: what
   * a streaming run checks before it starts (a bounded one plans its offsets, which checks the
   * same).
   */
  public static void checkTopic(
      String bootstrapServers, KafkaClientProperties properties, String topic) {
    try (Consumer<byte[], byte[]> consumer =
        properties.consumerFactory().apply(config(bootstrapServers, null))) {
      partitions(consumer, bootstrapServers, properties, topic);
    }
  }

  /** The topic's partitions; a refused login or a missing topic named by the brokers. */
  private static List<PartitionInfo> partitions(
      Consumer<byte[], byte[]> consumer,
      String bootstrapServers,
      KafkaClientProperties properties,
      String topic) {
    List<PartitionInfo> infos;
    try {
      infos = consumer.partitionsFor(topic, TIMEOUT);
    } catch (AuthenticationException e) {
      throw properties.loginRefused(bootstrapServers, e);
    }
    if (infos == null || infos.isEmpty()) {
      throw new IllegalArgumentException(
          "Kafka topic '" + topic + "' does not exist on " + Redaction.url(bootstrapServers));
    }
    return infos;
  }

  /**
   * The consumer group's lag on each partition of {@code topic}: records between the group's
   * committed offset (or the partition's first, when it has committed none) and the end.
   */
  public static Map<Integer, Long> lag(
      String bootstrapServers, KafkaClientProperties properties, String topic, String group) {
    checkArgument(group != null && !group.isBlank(), "lag needs a consumer group");
    try (Consumer<byte[], byte[]> consumer =
        properties.consumerFactory().apply(config(bootstrapServers, group))) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, TIMEOUT);
      List<TopicPartition> partitions =
          infos == null
              ? List.of()
              : infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, TIMEOUT);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
      Map<TopicPartition, OffsetAndMetadata> committed =
          consumer.committed(Set.copyOf(partitions), TIMEOUT);
      Map<Integer, Long> lag = new TreeMap<>();
      for (TopicPartition partition : partitions) {
        OffsetAndMetadata done = committed.get(partition);
        long position = Math.max(done != null ? done.offset() : 0, begin.get(partition));
        lag.put(partition.partition(), Math.max(0, end.get(partition) - position));
      }
      return lag;
    }
  }

  private static Map<TopicPartition, OffsetAndTimestamp> offsetsAt(
      Consumer<byte[], byte[]> consumer, List<TopicPartition> partitions, long epochMillis) {
    Map<TopicPartition, OffsetAndTimestamp> found =
        consumer.offsetsForTimes(
            partitions.stream().collect(Collectors.toMap(p -> p, p -> epochMillis)), TIMEOUT);
    return found == null ? Map.of() : found;
  }

  /**
   * A short name for where this read starts: the topic and each partition's start offset. A rerun
   * after a failure starts from the same offsets (so its dead-letter file replaces the failed
   * run's); a run after a successful one starts further on (so it never overwrites it).
   */
  public String startTag() {
    StringBuilder starts = new StringBuilder(topic);
    for (Range range : ranges) {
      starts.append('|').append(range.partition()).append('@').append(range.start());
    }
    return RunTag.of(starts.toString());
  }

  static Map<String, Object> config(String bootstrapServers, @Nullable String group) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (group != null) {
      config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    }
    return config;
  }
}

package dev.sluice.io.kafka;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.Progress;
import dev.sluice.transforms.core.SourceRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a Kafka topic's values as raw bytes, one {@link SourceRecord} each with origin {@code
 * kafka:<topic>/<partition>@<offset>} and the Kafka timestamp (KafkaIO reports the lineage). Values
 * are never deserialized here: a malformed value is the parse step's to dead-letter, with its
 * offset.
 *
 * <p>Bounded: reads from the consumer group's committed offsets (or the beginning) up to the end
 * offsets seen when the pipeline is built (or up to a stop time), then stops. A bounded read never
 * commits while it reads: the caller commits the planned stop offsets with {@link #commitPlanned()}
 * once everything read is durably written or dead-lettered, so a failed run reads the same records
 * again. Unbounded: reads until cancelled, committing offsets for the consumer group when the
 * runner finalizes a checkpoint.
 */
public final class KafkaSource extends PTransform<PBegin, PCollection<SourceRecord>> {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaSource.class);

  /** The whole configuration; each {@code withX} changes one field of a copy. */
  private static final class Spec implements Cloneable {
    String bootstrapServers;
    String topic;
    @Nullable String consumerGroup;
    KafkaClientProperties properties;
    boolean bounded;
    String pipeline;
    @Nullable Long stopReadTime;
    long chunkRecords = 50_000;
    @Nullable String runId;

    /**
     * The bounded read's plan, shared by this source and the copies made from it once configured,
     * so that the read, the dead-letter naming and the commit all use one plan.
     */
    java.util.concurrent.atomic.AtomicReference<Map<TopicPartition, long[]>> plan =
        new java.util.concurrent.atomic.AtomicReference<>();

    Spec copy() {
      try {
        return (Spec) clone();
      } catch (CloneNotSupportedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private final Spec spec;
  private final String bootstrapServers;
  private final String topic;
  private final @Nullable String consumerGroup;
  private final KafkaClientProperties properties;
  private final boolean bounded;
  private final String pipeline;
  private final @Nullable Long stopReadTime;

  private KafkaSource(Spec spec) {
    this.spec = spec;
    this.bootstrapServers = spec.bootstrapServers;
    this.topic = spec.topic;
    this.consumerGroup = spec.consumerGroup;
    this.properties = spec.properties;
    this.bounded = spec.bounded;
    this.pipeline = spec.pipeline;
    this.stopReadTime = spec.stopReadTime;
  }

  private KafkaSource with(java.util.function.Consumer<Spec> change) {
    Spec copy = spec.copy();
    change.accept(copy);
    return new KafkaSource(copy);
  }

  public static KafkaSource of(String bootstrapServers, String topic, String pipeline) {
    checkArgument(
        bootstrapServers != null && !bootstrapServers.isBlank(),
        "bootstrapServers must be host:port[,host:port], but was %s",
        bootstrapServers);
    checkArgument(topic != null && !topic.isBlank(), "topic must be a name, but was %s", topic);
    Spec spec = new Spec();
    spec.bootstrapServers = bootstrapServers;
    spec.topic = topic;
    spec.properties = KafkaClientProperties.fromFile(null);
    spec.pipeline = pipeline;
    return new KafkaSource(spec);
  }

  public KafkaSource withConsumerGroup(@Nullable String group) {
    return with(s -> s.consumerGroup = group);
  }

  public KafkaSource withProperties(KafkaClientProperties properties) {
    return with(s -> s.properties = properties);
  }

  /**
   * Bounded reads stop before the first record at or after this time (epoch millis) in each
   * partition, or at its end offset when no such record exists yet.
   */
  public KafkaSource stoppingAt(@Nullable Long epochMillis) {
    return with(s -> s.stopReadTime = epochMillis);
  }

  /**
   * Bounded reads split each partition's planned range into chunks of at most this many offsets,
   * each read by one worker call: the unit of parallelism and of a bundle (default 50,000).
   */
  public KafkaSource withChunkRecords(long records) {
    checkArgument(records > 0, "chunkRecords must be > 0, but was %s", records);
    return with(s -> s.chunkRecords = records);
  }

  /** Bounded reads log progress lines (records read, rate, time left) for this run. */
  public KafkaSource withProgressOf(String runId) {
    return with(s -> s.runId = runId);
  }

  /** Stop at the end offsets seen when the pipeline is built. */
  public KafkaSource bounded(boolean bounded) {
    return with(s -> s.bounded = bounded);
  }

  /** Commits, for the consumer group, the stop offset of each partition this read planned. */
  public void commitPlanned() {
    checkArgument(bounded && consumerGroup != null, "only bounded reads of a group commit");
    Map<TopicPartition, long[]> planned = spec.plan.get();
    if (planned == null || planned.isEmpty()) {
      return;
    }
    Map<String, Object> config = new HashMap<>(consumerConfig());
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    planned.forEach((partition, range) -> offsets.put(partition, new OffsetAndMetadata(range[1])));
    try (Consumer<byte[], byte[]> consumer = properties.consumerFactory().apply(config)) {
      consumer.commitSync(offsets, java.time.Duration.ofSeconds(30));
    }
  }

  private Map<String, Object> consumerConfig() {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (consumerGroup != null) {
      config.put(ConsumerConfig.GROUP_ID_CONFIG, consumerGroup);
    }
    return config;
  }

  @Override
  public PCollection<SourceRecord> expand(PBegin input) {
    if (bounded) {
      return expandBounded(input);
    }
    KafkaIO.Read<byte[], byte[]> read =
        KafkaIO.<byte[], byte[]>read()
            .withBootstrapServers(bootstrapServers)
            .withTopic(topic)
            .withKeyDeserializer(ByteArrayDeserializer.class)
            .withValueDeserializer(ByteArrayDeserializer.class)
            .withConsumerConfigUpdates(consumerConfig())
            .withConsumerFactoryFn(properties.consumerFactory())
            .withCreateTime(org.joda.time.Duration.ZERO);
    if (consumerGroup != null) {
      read = read.commitOffsetsInFinalize();
    }
    // No bad-record handler here: bytes never fail to deserialize, and with a handler KafkaIO
    // picks its splittable read, whose commits follow the read. Without one, Direct and Flink
    // use KafkaIO's unbounded source, which commits when the runner finalizes a checkpoint: on
    // Flink, once every step has flushed what it read before that checkpoint.
    return input
        .apply("ReadKafka", read)
        .apply("ToSourceRecords", ParDo.of(new ToSourceRecordFn(Accounting.of(pipeline))))
        .setCoder(SourceRecord.SourceRecordCoder.of());
  }

  /**
   * A bounded read is a bounded collection: the plan's ranges, cut into chunks, each read with a
   * consumer that is assigned its partition and seeks to the chunk's start. A runner runs it as a
   * batch (Flink's batch mode, Direct's bounded reads), chunks in parallel, and each chunk's
   * records flow on as one bundle, without waiting for the rest of the read.
   */
  private PCollection<SourceRecord> expandBounded(PBegin input) {
    Map<TopicPartition, long[]> ranges = plan();
    List<OffsetChunk> chunks = OffsetChunk.split(ranges, spec.chunkRecords);
    long planned = chunks.stream().mapToLong(OffsetChunk::size).sum();
    Progress progress =
        Progress.of(
            pipeline,
            spec.runId == null ? java.util.UUID.randomUUID().toString() : spec.runId,
            planned,
            "offsets");
    return input
        .apply(
            "PlanChunks",
            Create.of(ChunkGroup.of(chunks, READERS))
                .withCoder(SerializableCoder.of(ChunkGroup.class)))
        .apply(
            "ReadChunks",
            ParDo.of(
                new ReadChunkFn(
                    bootstrapServers,
                    properties,
                    Accounting.of(pipeline),
                    progress,
                    Math.max(2 * spec.chunkRecords, 100_000))))
        .setCoder(SourceRecord.SourceRecordCoder.of());
  }

  /** Readers of a bounded read that run at once, at most (each reads its chunks in turn). */
  static final int READERS = 8;

  /** The chunks one reader reads, one after another. */
  public record ChunkGroup(List<OffsetChunk> chunks) implements java.io.Serializable {
    /** The chunks dealt round-robin to at most {@code readers} groups. */
    static List<ChunkGroup> of(List<OffsetChunk> chunks, int readers) {
      int groups = Math.min(readers, chunks.size());
      List<List<OffsetChunk>> dealt = new ArrayList<>();
      for (int g = 0; g < groups; g++) {
        dealt.add(new ArrayList<>());
      }
      for (int i = 0; i < chunks.size(); i++) {
        dealt.get(i % groups).add(chunks.get(i));
      }
      return dealt.stream().map(ChunkGroup::new).toList();
    }
  }

  /** What one worker call reads: offsets {@code [start, stop)} of one partition. */
  public record OffsetChunk(String topic, int partition, long start, long stop)
      implements java.io.Serializable {
    long size() {
      return stop - start;
    }

    /** The ranges cut into chunks of at most {@code records} offsets, partition by partition. */
    static List<OffsetChunk> split(Map<TopicPartition, long[]> ranges, long records) {
      List<OffsetChunk> chunks = new ArrayList<>();
      ranges.forEach(
          (partition, range) -> {
            for (long start = range[0]; start < range[1]; start += records) {
              chunks.add(
                  new OffsetChunk(
                      partition.topic(),
                      partition.partition(),
                      start,
                      Math.min(range[1], start + records)));
            }
          });
      return chunks;
    }
  }

  /**
   * Reads chunks with one consumer per DoFn instance (assign and seek: no group, no rebalance),
   * emitting each record with its origin and Kafka timestamp. Offsets with no record (compaction,
   * transaction markers) are stepped over; a chunk whose records were deleted before they could be
   * read fails the run, naming them, rather than reading less than planned.
   */
  @DoFn.BoundedPerElement
  static final class ReadChunkFn extends DoFn<ChunkGroup, SourceRecord> {
    private static final java.time.Duration POLL = java.time.Duration.ofMillis(500);
    private static final long STALL_MILLIS = 120_000;

    private final String bootstrapServers;
    private final KafkaClientProperties properties;
    private final Accounting accounting;
    private final Progress progress;
    private final long maxInFlight;
    private transient Consumer<byte[], byte[]> consumer;

    ReadChunkFn(
        String bootstrapServers,
        KafkaClientProperties properties,
        Accounting accounting,
        Progress progress,
        long maxInFlight) {
      this.bootstrapServers = bootstrapServers;
      this.properties = properties;
      this.accounting = accounting;
      this.progress = progress;
      this.maxInFlight = maxInFlight;
    }

    @Setup
    public void setup() {
      Map<String, Object> config = new HashMap<>();
      config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      // Never jump: an offset that is gone is an error here, not a reason to read elsewhere.
      config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
      config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
      consumer = properties.consumerFactory().apply(config);
    }

    /** A group's restriction: the indices of its chunks still to read. */
    @GetInitialRestriction
    public OffsetRange initialRestriction(@Element ChunkGroup group) {
      return new OffsetRange(0, group.chunks().size());
    }

    @GetRestrictionCoder
    public org.apache.beam.sdk.coders.Coder<OffsetRange> restrictionCoder() {
      return OffsetRange.Coder.of();
    }

    /**
     * Reads the group's chunks in turn. After each chunk it yields when the sink is far behind (and
     * the runner may yield it anyway): the rest of the group resumes later, so a runner that queues
     * work (Direct) writes what was read before it reads more, and memory stays bounded.
     */
    @ProcessElement
    public ProcessContinuation process(
        @Element ChunkGroup group,
        RestrictionTracker<OffsetRange, Long> tracker,
        OutputReceiver<SourceRecord> out)
        throws java.io.IOException, InterruptedException {
      for (long i = tracker.currentRestriction().getFrom(); tracker.tryClaim(i); i++) {
        read(group.chunks().get((int) i), out);
        if (progress.inFlight() > maxInFlight) {
          return ProcessContinuation.resume().withResumeDelay(org.joda.time.Duration.millis(100));
        }
      }
      return ProcessContinuation.stop();
    }

    private void read(OffsetChunk chunk, OutputReceiver<SourceRecord> out)
        throws java.io.IOException, InterruptedException {
      TopicPartition partition = new TopicPartition(chunk.topic(), chunk.partition());
      ReportLineage.report(true, "kafka", bootstrapServers + "/" + chunk.topic());
      consumer.assign(List.of(partition));
      consumer.seek(partition, chunk.start());
      String origin = "kafka:" + chunk.topic() + "/" + chunk.partition() + "@";
      long position = chunk.start();
      long lastProgress = System.currentTimeMillis();
      while (position < chunk.stop()) {
        org.apache.kafka.clients.consumer.ConsumerRecords<byte[], byte[]> polled;
        try {
          polled = consumer.poll(POLL);
        } catch (org.apache.kafka.clients.consumer.OffsetOutOfRangeException e) {
          throw new java.io.IOException(
              "Kafka offsets ["
                  + position
                  + ", "
                  + chunk.stop()
                  + ") of "
                  + partition
                  + " were deleted (retention) after the run planned them; run again to read from"
                  + " the oldest offset left",
              e);
        }
        long emitted = 0;
        for (org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record :
            polled.records(partition)) {
          if (record.offset() >= chunk.stop()) {
            break;
          }
          byte[] value = record.value();
          SourceRecord source =
              new SourceRecord(
                  origin + record.offset(),
                  value == null ? new byte[0] : value,
                  record.timestamp() >= 0 ? record.timestamp() : null,
                  null);
          if (record.timestamp() >= 0) {
            out.outputWithTimestamp(source, new org.joda.time.Instant(record.timestamp()));
          } else {
            out.output(source);
          }
          emitted++;
        }
        long before = position;
        position = Math.min(chunk.stop(), consumer.position(partition));
        if (emitted > 0) {
          accounting.read().inc(emitted);
        }
        progress.read(emitted, position - before);
        if (position > before) {
          lastProgress = System.currentTimeMillis();
        } else if (System.currentTimeMillis() - lastProgress > STALL_MILLIS) {
          throw new java.io.IOException(
              "No progress reading "
                  + partition
                  + " at offset "
                  + position
                  + " for "
                  + STALL_MILLIS / 1000
                  + " s (planned up to "
                  + chunk.stop()
                  + ")");
        }
      }
    }

    @Teardown
    public void teardown() {
      if (consumer != null) {
        consumer.close(java.time.Duration.ofSeconds(5));
      }
    }
  }

  /**
   * A short name for what this bounded read starts from: the topic and each partition's start
   * offset. A rerun after a failure starts from the same offsets, so its dead-letter file replaces
   * the failed run's; a run that follows a successful one starts further on, so it never overwrites
   * it.
   */
  public String startTag() {
    StringBuilder starts = new StringBuilder(topic);
    new java.util.TreeMap<>(
            plan().entrySet().stream()
                .collect(
                    java.util.stream.Collectors.toMap(
                        e -> e.getKey().partition(), e -> e.getValue()[0])))
        .forEach(
            (partition, start) -> starts.append('|').append(partition).append('@').append(start));
    return dev.sluice.transforms.core.RunTag.of(starts.toString());
  }

  /**
   * The bounded read's plan, made once on first use: each partition with records between its start
   * (the group's committed offset, or the beginning) and its stop (the end offset now, or the first
   * offset at or after the stop time), as {@code [start, stop)}.
   */
  public synchronized Map<TopicPartition, long[]> plan() {
    checkArgument(bounded, "only a bounded read plans its offsets");
    if (spec.plan.get() != null) {
      return spec.plan.get();
    }
    Map<String, Object> config = new HashMap<>(consumerConfig());
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<TopicPartition, long[]> plan = new java.util.LinkedHashMap<>();
    try (Consumer<byte[], byte[]> consumer = properties.consumerFactory().apply(config)) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, java.time.Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalArgumentException(
            "Kafka topic '" + topic + "' does not exist on " + bootstrapServers);
      }
      List<TopicPartition> partitions =
          infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<TopicPartition, OffsetAndMetadata> committed =
          consumerGroup == null
              ? Map.of()
              : consumer.committed(Set.copyOf(partitions), java.time.Duration.ofSeconds(30));
      Map<TopicPartition, OffsetAndTimestamp> atStopTime =
          stopReadTime == null
              ? Map.of()
              : consumer.offsetsForTimes(
                  partitions.stream()
                      .collect(java.util.stream.Collectors.toMap(p -> p, p -> stopReadTime)),
                  java.time.Duration.ofSeconds(30));
      for (TopicPartition partition : partitions) {
        OffsetAndMetadata done = committed.get(partition);
        long start = done != null ? done.offset() : begin.get(partition);
        if (start < begin.get(partition)) {
          // Retention deleted records the group never read: they cannot be read any more.
          LOG.warn(
              "{}: offsets [{}, {}) of {} were deleted by retention before consumer group {} read"
                  + " them; reading from {}",
              pipeline,
              start,
              begin.get(partition),
              partition,
              consumerGroup,
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
    spec.plan.set(java.util.Collections.unmodifiableMap(plan));
    return spec.plan.get();
  }

  static final class ToSourceRecordFn extends DoFn<KafkaRecord<byte[], byte[]>, SourceRecord> {
    private final Accounting accounting;

    ToSourceRecordFn(Accounting accounting) {
      this.accounting = accounting;
    }

    @ProcessElement
    public void process(
        @Element KafkaRecord<byte[], byte[]> record, OutputReceiver<SourceRecord> out) {
      accounting.read().inc();
      byte[] value = record.getKV().getValue();
      out.output(
          new SourceRecord(
              "kafka:" + record.getTopic() + "/" + record.getPartition() + "@" + record.getOffset(),
              value == null ? new byte[0] : value,
              record.getTimestamp(),
              null));
    }
  }
}

package dev.sluice.io.kafka;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.io.secrets.Redaction;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.KafkaOrigin;
import dev.sluice.transforms.core.Progress;
import dev.sluice.transforms.core.SourceRecord;
import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a Kafka topic's values as raw bytes, one {@link SourceRecord} each with origin {@code
 * kafka:<topic>/<partition>@<offset>} and the Kafka timestamp (KafkaIO reports the lineage). Values
 * are never deserialized here: a malformed value is the parse step's to dead-letter, with its
 * offset.
 *
 * <p>Bounded ({@link #withOffsets}): reads the offsets planned by {@link KafkaOffsets#plan}, then
 * stops; it never commits while it reads (the caller commits the planned stop offsets with {@link
 * KafkaOffsets#commit} once everything read is durably written or dead-lettered, so a failed run
 * reads the same records again). Unbounded: reads until cancelled, committing offsets for the
 * consumer group when the runner finalizes a checkpoint. Expanding asks no broker anything.
 */
@AutoValue
public abstract class KafkaSource extends PTransform<PBegin, PCollection<SourceRecord>> {
  abstract String bootstrapServers();

  abstract String topic();

  abstract @Nullable String consumerGroup();

  abstract KafkaClientProperties properties();

  abstract String pipeline();

  abstract @Nullable KafkaOffsets offsets();

  abstract long chunkRecords();

  abstract @Nullable String runId();

  abstract boolean commitsOnFinalize();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setBootstrapServers(String bootstrapServers);

    abstract Builder setTopic(String topic);

    abstract Builder setConsumerGroup(@Nullable String group);

    abstract Builder setProperties(KafkaClientProperties properties);

    abstract Builder setPipeline(String pipeline);

    abstract Builder setOffsets(@Nullable KafkaOffsets offsets);

    abstract Builder setChunkRecords(long records);

    abstract Builder setRunId(@Nullable String runId);

    abstract Builder setCommitsOnFinalize(boolean commits);

    abstract KafkaSource build();
  }

  /** An unbounded read of {@code topic}; {@code pipeline} names its counters. */
  public static KafkaSource of(String bootstrapServers, String topic, String pipeline) {
    checkArgument(
        bootstrapServers != null && !bootstrapServers.isBlank(),
        "bootstrapServers must be host:port[,host:port], but was %s",
        bootstrapServers);
    checkArgument(topic != null && !topic.isBlank(), "topic must be a name, but was %s", topic);
    return new AutoValue_KafkaSource.Builder()
        .setBootstrapServers(bootstrapServers)
        .setTopic(topic)
        .setProperties(KafkaClientProperties.fromFile(null))
        .setPipeline(pipeline)
        .setChunkRecords(50_000)
        .setCommitsOnFinalize(true)
        .build();
  }

  /**
   * A streaming read whose consumer group offsets the sink commits, once what was read is in the
   * target (an Iceberg commit), instead of Beam committing them when it finalizes a checkpoint.
   */
  public KafkaSource withOffsetsCommittedBySink() {
    return toBuilder().setCommitsOnFinalize(false).build();
  }

  public KafkaSource withConsumerGroup(@Nullable String group) {
    checkArgument(group == null || !group.isBlank(), "consumerGroup must not be blank");
    return toBuilder().setConsumerGroup(group).build();
  }

  public KafkaSource withProperties(KafkaClientProperties properties) {
    checkArgument(properties != null, "properties must not be null");
    return toBuilder().setProperties(properties).build();
  }

  /** A bounded read of exactly these offsets (planned by {@link KafkaOffsets#plan}). */
  public KafkaSource withOffsets(KafkaOffsets offsets) {
    checkArgument(
        offsets != null && offsets.topic().equals(topic()),
        "offsets must be planned for topic %s, but were %s",
        topic(),
        offsets);
    return toBuilder().setOffsets(offsets).build();
  }

  /**
   * Bounded reads split each partition's planned range into chunks of at most this many offsets,
   * each read by one worker call: the unit of parallelism and of a bundle (default 50,000).
   */
  public KafkaSource withChunkRecords(long records) {
    checkArgument(records > 0, "chunkRecords must be > 0, but was %s", records);
    return toBuilder().setChunkRecords(records).build();
  }

  /** Bounded reads log progress lines (records read, rate, time left) for this run. */
  public KafkaSource withProgressOf(String runId) {
    return toBuilder().setRunId(runId).build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("bootstrapServers", Redaction.address(bootstrapServers())))
        .add(DisplayData.item("topic", topic()))
        .addIfNotNull(DisplayData.item("consumerGroup", consumerGroup()))
        .add(DisplayData.item("bounded", offsets() != null))
        .add(DisplayData.item("chunkRecords", chunkRecords()));
    if (offsets() != null) {
      builder.add(DisplayData.item("plannedRecords", offsets().records()));
    }
  }

  private Map<String, Object> consumerConfig() {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.putAll(properties().consumerSettings());
    if (consumerGroup() != null) {
      config.put(ConsumerConfig.GROUP_ID_CONFIG, consumerGroup());
    }
    return config;
  }

  @Override
  public PCollection<SourceRecord> expand(PBegin input) {
    if (offsets() != null) {
      return expandBounded(input, offsets());
    }
    KafkaIO.Read<byte[], byte[]> read =
        KafkaIO.<byte[], byte[]>read()
            .withBootstrapServers(bootstrapServers())
            .withTopic(topic())
            .withKeyDeserializer(ByteArrayDeserializer.class)
            .withValueDeserializer(ByteArrayDeserializer.class)
            .withConsumerConfigUpdates(consumerConfig())
            .withConsumerFactoryFn(properties().consumerFactory())
            .withCreateTime(org.joda.time.Duration.ZERO);
    if (consumerGroup() != null && commitsOnFinalize()) {
      read = read.commitOffsetsInFinalize();
    }
    // No bad-record handler here: bytes never fail to deserialize, and with a handler KafkaIO
    // picks its splittable read, whose commits follow the read. Without one, Direct and Flink
    // use KafkaIO's unbounded source, which commits when the runner finalizes a checkpoint: on
    // Flink, once every step has flushed what it read before that checkpoint.
    return input
        .apply("ReadKafka", read)
        .apply("ToSourceRecords", ParDo.of(new ToSourceRecordFn(Accounting.of(pipeline()))))
        .setCoder(SourceRecord.SourceRecordCoder.of());
  }

  /**
   * A bounded read is a bounded collection: the plan's ranges, cut into chunks, each read with a
   * consumer that is assigned its partition and seeks to the chunk's start. A runner runs it as a
   * batch (Flink's batch mode, Direct's bounded reads), chunks in parallel, and each chunk's
   * records flow on as one bundle, without waiting for the rest of the read.
   */
  private PCollection<SourceRecord> expandBounded(PBegin input, KafkaOffsets offsets) {
    List<OffsetChunk> chunks = OffsetChunk.split(offsets, chunkRecords());
    long planned = chunks.stream().mapToLong(OffsetChunk::size).sum();
    Progress progress =
        Progress.of(
            pipeline(),
            runId() == null ? UUID.randomUUID().toString() : runId(),
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
                    bootstrapServers(),
                    properties(),
                    Accounting.of(pipeline()),
                    progress,
                    Math.max(2 * chunkRecords(), 100_000))))
        .setCoder(SourceRecord.SourceRecordCoder.of());
  }

  /** Readers of a bounded read that run at once, at most (each reads its chunks in turn). */
  static final int READERS = 8;

  /** The chunks one reader reads, one after another. */
  public record ChunkGroup(List<OffsetChunk> chunks) implements Serializable {
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
      implements Serializable {
    long size() {
      return stop - start;
    }

    /** The ranges cut into chunks of at most {@code records} offsets, partition by partition. */
    static List<OffsetChunk> split(KafkaOffsets offsets, long records) {
      List<OffsetChunk> chunks = new ArrayList<>();
      for (KafkaOffsets.Range range : offsets.ranges()) {
        for (long start = range.start(); start < range.stop(); start += records) {
          chunks.add(
              new OffsetChunk(
                  offsets.topic(),
                  range.partition(),
                  start,
                  Math.min(range.stop(), start + records)));
        }
      }
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
    private static final Duration POLL = Duration.ofMillis(500);
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
      config.putAll(properties.consumerSettings());
      consumer = properties.consumerFactory().apply(config);
    }

    /** A group's restriction: the indices of its chunks still to read. */
    @GetInitialRestriction
    public OffsetRange initialRestriction(@Element ChunkGroup group) {
      return new OffsetRange(0, group.chunks().size());
    }

    @GetRestrictionCoder
    public Coder<OffsetRange> restrictionCoder() {
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
        throws IOException, InterruptedException {
      for (long i = tracker.currentRestriction().getFrom(); tracker.tryClaim(i); i++) {
        read(group.chunks().get((int) i), out);
        if (progress.inFlight() > maxInFlight) {
          return ProcessContinuation.resume().withResumeDelay(org.joda.time.Duration.millis(100));
        }
      }
      return ProcessContinuation.stop();
    }

    private void read(OffsetChunk chunk, OutputReceiver<SourceRecord> out)
        throws IOException, InterruptedException {
      TopicPartition partition = new TopicPartition(chunk.topic(), chunk.partition());
      ReportLineage.report(
          true, "kafka", Redaction.address(bootstrapServers) + "/" + chunk.topic());
      consumer.assign(List.of(partition));
      consumer.seek(partition, chunk.start());
      String origin = KafkaOrigin.prefix(chunk.topic(), chunk.partition());
      long position = chunk.start();
      long lastProgress = System.currentTimeMillis();
      while (position < chunk.stop()) {
        org.apache.kafka.clients.consumer.ConsumerRecords<byte[], byte[]> polled;
        try {
          polled = consumer.poll(POLL);
        } catch (org.apache.kafka.clients.consumer.OffsetOutOfRangeException e) {
          throw new IOException(
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
          throw new IOException(
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
        consumer.close(Duration.ofSeconds(5));
      }
    }
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
              new KafkaOrigin(record.getTopic(), record.getPartition(), record.getOffset())
                  .origin(),
              value == null ? new byte[0] : value,
              record.getTimestamp(),
              null));
    }
  }
}

package dev.sluice.io.deadletter;

import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.io.secrets.Redaction;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterBinary;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Dead letters as records of a Kafka topic ({@code kafka:<topic>}), keyed by their origin; the
 * value is the dead letter as Avro binary (the default) or as JSON with format {@code json}. A
 * replay's marks go to a ledger topic, {@code <topic>.replayed} (compacted, made by the first
 * replay), whose records are keyed by the replayed dead letters' keys.
 */
public record KafkaDeadLetters(
    String topic,
    DeadLetterSink.Format format,
    String bootstrapServers,
    KafkaClientProperties properties)
    implements DeadLetterSink {
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration STALL = Duration.ofSeconds(60);

  @Override
  public void checkReachable() {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Consumer<byte[], byte[]> consumer = properties.consumerFactory().apply(config)) {
      List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30));
      if (partitions == null || partitions.isEmpty()) {
        throw new IllegalArgumentException(
            "--deadLetter=kafka:"
                + topic
                + ": topic "
                + topic
                + " does not exist on "
                + Redaction.url(bootstrapServers)
                + "; create it before the run");
      }
    } catch (KafkaException e) {
      throw new IllegalArgumentException(
          "--deadLetter=kafka:" + topic + ": cannot reach the brokers: " + e.getMessage(), e);
    }
  }

  @Override
  public String location() {
    return "kafka:" + topic;
  }

  @Override
  public LineageDataset lineageDataset() {
    return LineageDataset.kafka(bootstrapServers, topic, DeadLetter.getClassSchema().toString());
  }

  /** The compacted topic of the replay marks. */
  String ledgerTopic() {
    return topic + ".replayed";
  }

  @Override
  public String replayLedger() {
    return "kafka:" + ledgerTopic();
  }

  @Override
  public List<Held> held(ReplayFilter filter) {
    Set<String> replayed = new HashSet<>();
    readTopic(
        ledgerTopic(),
        false,
        (key, value) -> replayed.add(new String(key, StandardCharsets.UTF_8)));
    List<DeadLetter> all = new ArrayList<>();
    readTopic(
        topic,
        true,
        (key, value) -> {
          try {
            all.add(
                value.length > 0 && value[0] == '{'
                    ? DeadLetterJson.fromJson(new String(value, StandardCharsets.UTF_8))
                    : DeadLetterBinary.fromBytes(value));
          } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                "--from=kafka:"
                    + topic
                    + " holds a record that is no dead letter: "
                    + e.getMessage(),
                e);
          }
        });
    return ReplayLedger.select(all, filter, replayed);
  }

  /** Every record of the topic up to its end now; false when the topic does not exist. */
  private boolean readTopic(String name, boolean required, BiConsumer<byte[], byte[]> each) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (Consumer<byte[], byte[]> consumer = properties.consumerFactory().apply(config)) {
      List<PartitionInfo> infos = consumer.partitionsFor(name, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        if (required) {
          throw new IllegalArgumentException(
              "--from=kafka:"
                  + name
                  + ": topic "
                  + name
                  + " does not exist on "
                  + Redaction.url(bootstrapServers));
        }
        return false;
      }
      List<TopicPartition> partitions =
          infos.stream().map(p -> new TopicPartition(name, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long lastProgress = System.currentTimeMillis();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        var records = consumer.poll(POLL);
        if (!records.isEmpty()) {
          lastProgress = System.currentTimeMillis();
        } else if (System.currentTimeMillis() - lastProgress > STALL.toMillis()) {
          throw new IllegalStateException(
              "reading "
                  + name
                  + " on "
                  + Redaction.url(bootstrapServers)
                  + " made no progress for "
                  + STALL.toSeconds()
                  + " s before its end offsets "
                  + end);
        }
        for (ConsumerRecord<byte[], byte[]> record : records) {
          if (record.offset() < end.get(new TopicPartition(name, record.partition()))
              && record.value() != null) {
            each.accept(record.key() == null ? new byte[0] : record.key(), record.value());
          }
        }
      }
      return true;
    }
  }

  @Override
  public void markReplayed(List<String> keys, String runId) throws Exception {
    String ledger = ledgerTopic();
    Map<String, Object> admin = new HashMap<>(properties.load());
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Admin client = Admin.create(admin)) {
      client
          .createTopics(
              List.of(
                  new NewTopic(ledger, Optional.of(1), Optional.empty())
                      .configs(Map.of("cleanup.policy", "compact"))))
          .all()
          .get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    Instant now = Instant.now();
    try (Producer<String, byte[]> producer = properties.producerFactory().apply(config)) {
      List<Future<?>> sent = new ArrayList<>();
      for (String key : keys) {
        sent.add(
            producer.send(
                new ProducerRecord<>(
                    ledger,
                    key,
                    ReplayLedger.line(key, runId, now).getBytes(StandardCharsets.UTF_8))));
      }
      producer.flush();
      for (Future<?> f : sent) {
        f.get();
      }
    }
  }

  @Override
  public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
    return new Write(this);
  }

  /** Writes the topic's records. */
  static final class Write extends DeadLetterSink.Writer<KafkaDeadLetters> {
    Write(KafkaDeadLetters sink) {
      super(sink);
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder
          .add(DisplayData.item("bootstrapServers", Redaction.address(sink.bootstrapServers())))
          .add(DisplayData.item("format", sink.format().name()));
    }

    @Override
    public POutput expand(PCollection<DeadLetter> input) {
      boolean json = sink.format() == DeadLetterSink.Format.JSON;
      return input
          .apply("Lineage", ReportLineage.sink("kafka", sink.topic()))
          .apply(
              "ToKafkaRecords",
              MapElements.into(
                      TypeDescriptors.kvs(
                          TypeDescriptors.strings(), TypeDescriptor.of(byte[].class)))
                  .via(
                      (DeadLetter d) ->
                          KV.of(
                              d.getOrigin(),
                              json
                                  ? DeadLetterJson.toJson(d).getBytes(StandardCharsets.UTF_8)
                                  : DeadLetterBinary.toBytes(d))))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), ByteArrayCoder.of()))
          .apply(
              "WriteKafka",
              KafkaIO.<String, byte[]>write()
                  .withBootstrapServers(sink.bootstrapServers())
                  .withTopic(sink.topic())
                  .withKeySerializer(StringSerializer.class)
                  .withValueSerializer(ByteArraySerializer.class)
                  .withProducerFactoryFn(sink.properties().producerFactory()));
    }
  }
}

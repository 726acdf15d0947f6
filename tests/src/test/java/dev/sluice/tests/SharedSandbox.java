package dev.sluice.tests;

import dev.sluice.runners.Migrations;
import dev.sluice.runners.sandbox.Sandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real PostgreSQL (migrated) and one real Kafka broker for the whole test run, shared by every
 * test class that extends with it and stopped when the run ends. Tests own their table and topic
 * names, so they never collide.
 */
public final class SharedSandbox
    implements BeforeAllCallback, ExtensionContext.Store.CloseableResource {
  private static Sandbox sandbox;

  @Override
  public synchronized void beforeAll(ExtensionContext context) throws Exception {
    if (sandbox == null) {
      Path dir =
          Files.createDirectories(
              Path.of(System.getProperty("java.io.tmpdir"), "sandbox-" + UUID.randomUUID()));
      sandbox = Sandbox.start(dir);
      Migrations.on(sandbox.postgres().jdbcUrl(), "postgres", null).apply();
      context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL).put("sluice-sandbox", this);
    }
  }

  @Override
  public void close() {
    sandbox.close();
  }

  static Sandbox get() {
    return sandbox;
  }

  static String jdbcUrl() {
    return sandbox.postgres().jdbcUrl();
  }

  static String bootstrapServers() {
    return sandbox.kafka().bootstrapServers();
  }

  /** A fresh table shaped like {@code like} (a migrated table), named for the test. */
  static String newTableLike(String like, String name) throws SQLException {
    try (Connection c = sandbox.postgres().connect();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + name);
      s.execute("CREATE TABLE " + name + " (LIKE " + like + " INCLUDING ALL)");
    }
    return name;
  }

  static void execute(String sql) throws SQLException {
    try (Connection c = sandbox.postgres().connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static long count(String sql) throws SQLException {
    try (Connection c = sandbox.postgres().connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static String text(String sql) throws SQLException {
    try (Connection c = sandbox.postgres().connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** A checksum of a table's full contents, ordered by its key. */
  static String checksum(String table, String key) throws SQLException {
    return text(
        "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY "
            + key
            + "), '')) FROM "
            + table
            + " t");
  }

  /** A new topic with the given partitions, named for the test. */
  static String newTopic(String name, int partitions) {
    String topic = name + "-" + UUID.randomUUID().toString().substring(0, 8);
    sandbox.kafka().createTopic(topic, partitions);
    return topic;
  }

  /** Produces one value with an explicit Kafka timestamp (epoch millis). */
  static void produceAt(String topic, int partition, long timestamp, byte[] value)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", bootstrapServers(), "acks", "all"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, partition, timestamp, null, value)).get();
    }
  }

  /** Produces many values to one partition, in order, waiting once for all of them. */
  static void produceMany(String topic, int partition, List<byte[]> values) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                "bootstrap.servers",
                bootstrapServers(),
                "acks",
                "all",
                "linger.ms",
                20,
                "max.in.flight.requests.per.connection",
                1),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (byte[] value : values) {
        producer.send(new ProducerRecord<>(topic, partition, null, value));
      }
      producer.flush();
    }
  }

  /** Produces values to explicit partitions, in order, and waits for each acknowledgement. */
  static void produce(String topic, int partition, byte[]... values) throws Exception {
    produceTo(bootstrapServers(), topic, partition, values);
  }

  /** The same on the brokers {@code bootstrap} (a broker of a test's own). */
  static void produceTo(String bootstrap, String topic, int partition, byte[]... values)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", bootstrap, "acks", "all"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (byte[] value : values) {
        producer.send(new ProducerRecord<>(topic, partition, null, value)).get();
      }
    }
  }

  /** The offsets {@code group} has committed for {@code topic}, by partition (none: empty). */
  static Map<Integer, Long> committedOffsets(String topic, String group) {
    try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer =
        new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            Map.of("bootstrap.servers", bootstrapServers(), "group.id", group),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      Map<Integer, Long> offsets = new TreeMap<>();
      Set<org.apache.kafka.common.TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition()))
              .collect(Collectors.toSet());
      consumer
          .committed(partitions)
          .forEach(
              (partition, offset) -> {
                if (offset != null) {
                  offsets.put(partition.partition(), offset.offset());
                }
              });
      return offsets;
    }
  }
}

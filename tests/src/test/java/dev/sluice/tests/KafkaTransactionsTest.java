package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions;
import dev.sluice.pipelines.run.PipelineRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.LongStream;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Topics written by exactly-once producers: committed, aborted and open transactions, written by a
 * real transactional producer. Only committed records are loaded, a consumer group never moves past
 * a transaction that is still open, and a transaction that times out is never loaded.
 */
@ExtendWith(SharedSandbox.class)
class KafkaTransactionsTest extends LauncherCalls {
  @TempDir Path dir;

  /** A transactional producer of order events, spreading them over the topic's partitions. */
  private static final class Transactional implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final int partitions;

    Transactional(String topic, int partitions, int timeoutMillis) {
      this.topic = topic;
      this.partitions = partitions;
      producer =
          new KafkaProducer<>(
              Map.of(
                  "bootstrap.servers",
                  SharedSandbox.bootstrapServers(),
                  "transactional.id",
                  "txn-" + UUID.randomUUID(),
                  "transaction.timeout.ms",
                  timeoutMillis,
                  "enable.idempotence",
                  true),
              new ByteArraySerializer(),
              new ByteArraySerializer());
      producer.initTransactions();
    }

    /** Begins a transaction and sends orders {@code from..to}, flushed but not ended. */
    Transactional send(long from, long to) {
      producer.beginTransaction();
      for (long id = from; id <= to; id++) {
        producer.send(
            new ProducerRecord<>(topic, (int) (id % partitions), null, json(id, 1, "1.00", "NEW")));
      }
      producer.flush();
      return this;
    }

    void commit() {
      producer.commitTransaction();
    }

    void abort() {
      producer.abortTransaction();
    }

    @Override
    public void close() {
      try {
        producer.close(Duration.ofSeconds(1));
      } catch (RuntimeException fencedOrTimedOut) {
        // The coordinator aborted this producer's transaction: closing it can only complain.
      }
    }
  }

  private static List<Long> ids(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  private static List<Long> tableIds(String table) throws Exception {
    List<Long> ids = new ArrayList<>();
    try (var c = SharedSandbox.get().postgres().connect();
        var s = c.createStatement();
        var rs = s.executeQuery("SELECT order_id FROM " + table + " ORDER BY order_id")) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    }
    return ids;
  }

  /** End offsets as a consumer at {@code isolation} sees them, by partition. */
  private static Map<Integer, Long> endOffsets(String topic, String isolation) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                SharedSandbox.bootstrapServers(),
                "isolation.level",
                isolation),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      Map<Integer, Long> ends = new TreeMap<>();
      consumer.endOffsets(partitions).forEach((p, offset) -> ends.put(p.partition(), offset));
      return ends;
    }
  }

  private String[] bounded(String topic, String table, String... extra) {
    return KafkaToJdbcArgs.with(
        KafkaToJdbcArgs.of(topic, table, extra),
        "--deadLetter=file:" + dir.resolve("dlq"),
        "--runReport=" + dir.resolve("report.json"),
        "--bounded");
  }

  private long counter(String name) throws Exception {
    JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    return report.get("counters").get(name).asLong();
  }

  /**
   * Committed, aborted and open transactions on 1 and on 12 partitions: a bounded run loads the
   * committed ones up to the last stable offsets and commits no offset past the open transaction;
   * once that transaction times out, the next run loads what was committed after it and never the
   * aborted or timed-out records.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 12})
  void boundedRunsLoadCommittedTransactionsOnly(int partitions) throws Exception {
    String topic = SharedSandbox.newTopic("txn", partitions);
    String table = SharedSandbox.newTableLike("orders", "orders_txn_" + partitions);
    String group = "txn-" + partitions;
    try (Transactional committed = new Transactional(topic, partitions, 60_000);
        Transactional aborted = new Transactional(topic, partitions, 60_000);
        Transactional open = new Transactional(topic, partitions, 3_000)) {
      committed.send(1, 24).commit();
      aborted.send(101, 124).abort();
      // The coordinator writes the transactions' markers on its own time: once both are in, the
      // end is where the open transaction starts, and where read_committed stops while it is open.
      assertThat(
          Poll.until(
              Duration.ofSeconds(30),
              () ->
                  endOffsets(topic, "read_committed")
                      .equals(endOffsets(topic, "read_uncommitted"))),
          is(true));
      Map<Integer, Long> stable = endOffsets(topic, "read_committed");
      open.send(201, 224);
      committed.send(25, 48).commit();

      assertOk(run(bounded(topic, table, "--consumerGroup=" + group)));
      assertThat(tableIds(table), equalTo(ids(1, 24)));
      assertThat(counter("read"), is(24L));
      assertBalanced(dir.resolve("report.json"));
      assertThat(
          "the group stops at the open transaction",
          SharedSandbox.committedOffsets(topic, group),
          equalTo(stable));

      // The open transaction's producer is gone: its coordinator aborts it after its timeout.
      assertThat(
          Poll.until(
              Duration.ofSeconds(60),
              () ->
                  endOffsets(topic, "read_committed")
                      .equals(endOffsets(topic, "read_uncommitted"))),
          is(true));
    }

    assertOk(run(bounded(topic, table, "--consumerGroup=" + group)));
    assertThat(tableIds(table), equalTo(ids(1, 48)));
    assertThat(counter("read"), is(24L));
    assertBalanced(dir.resolve("report.json"));
    assertThat(
        SharedSandbox.committedOffsets(topic, group),
        equalTo(endOffsets(topic, "read_uncommitted")));

    // Asked for in so many words, every record is read, aborted ones included.
    String everything =
        SharedSandbox.newTableLike("orders", "orders_txn_uncommitted_" + partitions);
    assertOk(run(bounded(topic, everything, "--kafkaIsolationLevel=read_uncommitted")));
    List<Long> all = new ArrayList<>(ids(1, 48));
    all.addAll(ids(101, 124));
    all.addAll(ids(201, 224));
    assertThat(tableIds(everything), equalTo(all));
  }

  /**
   * A streaming run loads committed transactions as they commit and never an aborted one; a
   * transaction still open holds back what follows it in its partition until it commits.
   */
  @Test
  void aStreamingRunLoadsTransactionsWhenTheyCommit() throws Exception {
    String topic = SharedSandbox.newTopic("txn-stream", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_txn_stream");
    KafkaToJdbcOptions options = PipelineOptionsFactory.as(KafkaToJdbcOptions.class);
    options.setBootstrapServers(SharedSandbox.bootstrapServers());
    options.setTopic(topic);
    options.setConsumerGroup("txn-stream");
    options.setJdbcUrl(SharedSandbox.jdbcUrl());
    options.setJdbcUser("postgres");
    options.setTable(table);
    options.setDeadLetter("file:" + dir.resolve("dlq"));
    options.as(DirectOptions.class).setBlockOnRun(false);
    PipelineResult result = PipelineRun.build(new KafkaToJdbc(), options).pipeline().run();
    try (Transactional committed = new Transactional(topic, 2, 60_000);
        Transactional aborted = new Transactional(topic, 2, 60_000);
        Transactional open = new Transactional(topic, 2, 60_000)) {
      committed.send(1, 10).commit();
      aborted.send(101, 110).abort();
      open.send(201, 210);
      committed.send(11, 20).commit();
      assertThat(
          Poll.until(Duration.ofSeconds(60), () -> tableIds(table).equals(ids(1, 10))), is(true));

      open.commit();
      List<Long> expected = new ArrayList<>(ids(1, 20));
      expected.addAll(ids(201, 210));
      assertThat(
          Poll.until(Duration.ofSeconds(60), () -> tableIds(table).equals(expected)), is(true));
      assertThat(result.getState(), is(PipelineResult.State.RUNNING));
    } finally {
      result.cancel();
      result.waitUntilFinish(org.joda.time.Duration.standardSeconds(30));
    }
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.runners.sandbox.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka broker restarts while kafka-to-jdbc streams: the read resumes when the broker is back,
 * and every event before and after lands once, each malformed one dead-lettered once.
 */
@ExtendWith(SharedSandbox.class)
class KafkaBrokerFaultTest {
  private static final int ORDERS = 100;

  @TempDir Path dir;

  private static void produce(String bootstrap, String topic, byte[]... values) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", bootstrap, "acks", "all", "retries", 20),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (byte[] value : values) {
        producer.send(new ProducerRecord<>(topic, 0, null, value)).get();
      }
    }
  }

  @Test
  void aBrokerRestartDuringAStreamLosesAndDuplicatesNothing() throws Exception {
    try (KafkaBroker broker = KafkaBroker.start(Files.createDirectories(dir.resolve("broker")))) {
      String topic = "fault-broker";
      broker.createTopic(topic, 1);
      String table = SharedSandbox.newTableLike("orders", "orders_fault_broker");
      String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_fault_broker");
      KafkaToJdbcOptions options = PipelineOptionsFactory.as(KafkaToJdbcOptions.class);
      options.setBootstrapServers(broker.bootstrapServers());
      options.setTopic(topic);
      options.setConsumerGroup("fault-broker");
      options.setJdbcUrl(SharedSandbox.jdbcUrl());
      options.setJdbcUser("postgres");
      options.setTable(table);
      options.setDeadLetter("jdbc:" + dlq);
      options.as(DirectOptions.class).setBlockOnRun(false);
      Pipeline pipeline = PipelineRun.build(new KafkaToJdbc(), options).pipeline();
      PipelineResult result = pipeline.run();
      try {
        byte[][] first = new byte[ORDERS + 1][];
        for (int i = 0; i < ORDERS; i++) {
          first[i] = json(i + 1, 1, "1.00", "NEW");
        }
        first[ORDERS] = utf8("{broken");
        produce(broker.bootstrapServers(), topic, first);
        String oneVersion = ORDERS + " orders, 0 at v2";
        assertThat(
            StreamingOrders.await(() -> StreamingOrders.versions(table), oneVersion),
            equalTo(oneVersion));

        broker.restart(Duration.ofSeconds(3));

        byte[][] second = new byte[ORDERS + 1][];
        for (int i = 0; i < ORDERS; i++) {
          second[i] = json(i + 1, 2, "2.00", "PAID");
        }
        second[ORDERS] = utf8("{broken again");
        produce(broker.bootstrapServers(), topic, second);
        String newest = ORDERS + " orders, " + ORDERS + " at v2";
        assertThat(
            StreamingOrders.await(() -> StreamingOrders.versions(table), newest), equalTo(newest));
        String bothOnce =
            "kafka:" + topic + "/0@" + ORDERS + ",kafka:" + topic + "/0@" + (2 * ORDERS + 1);
        assertThat(
            StreamingOrders.await(
                () ->
                    SharedSandbox.text(
                        "SELECT string_agg(origin, ',' ORDER BY origin) FROM " + dlq),
                bothOnce),
            equalTo(bothOnce));
        assertThat(result.getState(), is(PipelineResult.State.RUNNING));
      } finally {
        result.cancel();
        result.waitUntilFinish(org.joda.time.Duration.standardSeconds(30));
      }
    }
  }
}

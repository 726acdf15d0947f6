package dev.sluice.runners.sandbox;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class SandboxTest {

  @Test
  void startsRealPostgresAndKafkaOnLoopbackAndStopsBoth() throws Exception {
    Path workDir =
        Files.createDirectories(
            Path.of(System.getProperty("java.io.tmpdir"), "sandbox-" + UUID.randomUUID()));
    Sandbox sandbox = Sandbox.start(workDir);
    String jdbcUrl = sandbox.postgres().jdbcUrl();
    try {
      assertThat(sandbox.describe(), containsString("jdbcUrl=" + jdbcUrl));
      try (Connection c = sandbox.postgres().connect();
          ResultSet rs = c.createStatement().executeQuery("select version()")) {
        rs.next();
        assertThat(rs.getString(1), containsString("PostgreSQL 17"));
      }

      KafkaBroker kafka = sandbox.kafka();
      kafka.createTopic("sandbox-check", 2);
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", kafka.bootstrapServers()),
              new StringSerializer(),
              new StringSerializer())) {
        producer.send(new ProducerRecord<>("sandbox-check", 0, "k", "hello")).get();
      }
      List<String> values = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(
              Map.of(
                  "bootstrap.servers", kafka.bootstrapServers(),
                  "group.id", "sandbox-check",
                  "auto.offset.reset", "earliest"),
              new StringDeserializer(),
              new StringDeserializer())) {
        consumer.subscribe(List.of("sandbox-check"));
        long deadline = System.currentTimeMillis() + 30_000;
        while (values.isEmpty() && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            values.add(r.key() + "=" + r.value());
          }
        }
      }
      assertThat(values, contains("k=hello"));
    } finally {
      sandbox.close();
    }
    assertThat(sandbox.kafka().isRunning(), is(false));
    assertThrows(
        SQLException.class, () -> DriverManager.getConnection(jdbcUrl, Postgres.USER, "").close());
  }
}

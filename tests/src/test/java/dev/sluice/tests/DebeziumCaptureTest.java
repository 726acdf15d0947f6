package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.sandbox.ConnectWorker;
import dev.sluice.runners.sandbox.DebeziumCapture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CDC source of the sandbox ({@code sandbox --cdc}) is real: Debezium's PostgreSQL connector,
 * in a Kafka Connect worker of its own JVM, captures a table of the sandbox's PostgreSQL (snapshot,
 * then inserts, updates and deletes from the write-ahead log) into the broker, a tombstone after
 * each delete, in either JSON converter shape.
 */
@ExtendWith(SharedSandbox.class)
class DebeziumCaptureTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void capturesSnapshotInsertsUpdatesAndDeletesWithTombstones(boolean schemas) throws Exception {
    String table = "cdc_src_" + UUID.randomUUID().toString().substring(0, 8);
    SharedSandbox.execute(
        "CREATE TABLE "
            + table
            + " (order_id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, status text NOT NULL,"
            + " note text)");
    SharedSandbox.execute("INSERT INTO " + table + " VALUES (1, 1.50, 'NEW', null)");
    String prefix = "cdc" + (schemas ? "s" : "p") + UUID.randomUUID().toString().substring(0, 6);
    try (ConnectWorker capture =
        DebeziumCapture.start(
            dir,
            SharedSandbox.bootstrapServers(),
            SharedSandbox.get().postgres(),
            DebeziumCapture.Settings.of(prefix, table).withSchemas(schemas))) {
      SharedSandbox.execute("INSERT INTO " + table + " VALUES (2, 2.00, 'NEW', 'x')");
      SharedSandbox.execute("UPDATE " + table + " SET status = 'PAID' WHERE order_id = 1");
      SharedSandbox.execute("DELETE FROM " + table + " WHERE order_id = 2");
      List<ConsumerRecord<String, String>> events =
          read(DebeziumCapture.topic(prefix, table), 5, Duration.ofMinutes(2));

      Map<Long, List<String>> opsByKey = new TreeMap<>();
      Map<Long, Long> lastLsn = new TreeMap<>();
      for (ConsumerRecord<String, String> event : events) {
        JsonNode key = JSON.readTree(event.key());
        long id = (schemas ? key.path("payload") : key).path("order_id").asLong();
        if (event.value() == null) {
          opsByKey.computeIfAbsent(id, k -> new ArrayList<>()).add("tombstone");
          continue;
        }
        JsonNode value = JSON.readTree(event.value());
        assertThat(value.has("payload"), is(schemas));
        JsonNode change = schemas ? value.path("payload") : value;
        opsByKey.computeIfAbsent(id, k -> new ArrayList<>()).add(change.path("op").asText());
        long lsn = change.path("source").path("lsn").asLong();
        if (!change.path("op").asText().equals("r")) {
          assertThat(lsn, greaterThan(lastLsn.getOrDefault(id, 0L)));
          lastLsn.put(id, lsn);
        }
        if (change.path("op").asText().equals("d")) {
          assertThat(change.path("after").isNull(), is(true));
          assertThat(change.path("before").path("order_id").asLong(), is(2L));
        }
      }
      assertThat(
          opsByKey, equalTo(Map.of(1L, List.of("r", "u"), 2L, List.of("c", "d", "tombstone"))));
      assertThat(capture.process().isAlive(), is(true));
    }
    assertThat(
        SharedSandbox.count(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_" + prefix + "'"),
        is(0L));
  }

  /** Reads {@code n} records of {@code topic} from the start, in offset order per partition. */
  private static List<ConsumerRecord<String, String>> read(String topic, int n, Duration timeout) {
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                SharedSandbox.bootstrapServers(),
                "group.id",
                "peek-" + UUID.randomUUID(),
                "auto.offset.reset",
                "earliest"),
            new StringDeserializer(),
            new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (records.size() < n && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
      }
    }
    assertThat(topic + " " + records, records.size(), is(n));
    assertThat(records.stream().filter(r -> r.value() == null).count(), is(1L));
    assertThat(records.get(0).topic(), is(topic));
    return records;
  }
}

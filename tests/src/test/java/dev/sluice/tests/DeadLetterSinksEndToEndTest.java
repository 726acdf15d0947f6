package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterBinary;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The three dead-letter sinks, end to end: what lands, keyed how, with its exact bytes. */
@ExtendWith(SharedSandbox.class)
class DeadLetterSinksEndToEndTest extends LauncherCalls {
  private static final byte[] BAD_JSON = utf8("{\"order_id\":");
  private static final byte[] BAD_ENUM = json(3, 1, "1.00", "LOST");
  private static final byte[] TOO_LONG = json(4, 1, "1.00", "EURO", "NEW");

  @TempDir Path dir;

  /** Produces one good record and three bad ones (parse, schema, sink) and runs kafka-to-jdbc. */
  private String runWithBadRecords(String name, String... deadLetterArgs) throws Exception {
    String topic = SharedSandbox.newTopic(name, 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), BAD_JSON, BAD_ENUM, TOO_LONG);
    return load(name, topic, deadLetterArgs);
  }

  /** Loads the topic (all of it: no consumer group) into a fresh table; the run's counters. */
  private String load(String name, String topic, String... deadLetterArgs) throws Exception {
    String table = SharedSandbox.newTableLike("orders", "orders_" + name.replace('-', '_'));
    List<String> args =
        new ArrayList<>(
            List.of(
                "kafka-to-jdbc",
                "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
                "--topic=" + topic,
                "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--jdbcUser=postgres",
                "--table=" + table,
                "--bounded",
                "--runReport=" + dir.resolve("report.json")));
    args.addAll(List.of(deadLetterArgs));
    int code = run(args.toArray(String[]::new));
    assertThat(err.toString(StandardCharsets.UTF_8), code, is(Launcher.OK));
    JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    assertThat(
        report.get("counters").toString(),
        equalTo("{\"read\":4,\"written\":1,\"dead_lettered\":3,\"filtered\":0}"));
    assertThat(
        report.get("dead_lettered_by_reason").toString(),
        equalTo("{\"parse\":1,\"schema\":1,\"sink\":1}"));
    assertThat(
        report.get("dead_lettered_by_step").toString(), equalTo("{\"Parse\":2,\"Upsert\":1}"));
    return topic;
  }

  private static void assertTheThreeDeadLetters(String topic, Map<String, DeadLetter> byOrigin) {
    assertThat(
        byOrigin.keySet().stream().toList(),
        equalTo(
            List.of(
                "kafka:" + topic + "/0@1", "kafka:" + topic + "/0@2", "kafka:" + topic + "/0@3")));
    DeadLetter parse = byOrigin.get("kafka:" + topic + "/0@1");
    DeadLetter schema = byOrigin.get("kafka:" + topic + "/0@2");
    DeadLetter sink = byOrigin.get("kafka:" + topic + "/0@3");
    assertThat(parse.getReason() + " " + parse.getStep(), equalTo("parse Parse"));
    assertThat(schema.getReason() + " " + schema.getStep(), equalTo("schema Parse"));
    assertThat(sink.getReason() + " " + sink.getStep(), equalTo("sink Upsert"));
    assertThat(DeadLetterJson.bytes(parse.getPayload()), equalTo(BAD_JSON));
    assertThat(DeadLetterJson.bytes(schema.getPayload()), equalTo(BAD_ENUM));
    assertThat(DeadLetterJson.bytes(sink.getPayload()), equalTo(TOO_LONG));
    assertThat(
        sink.getErrorMessage(), containsString("value too long for type character varying(3)"));
    assertThat(sink.getStackTrace(), containsString("PSQLException"));
    assertThat(schema.getErrorMessage(), containsString("'LOST' is not one of"));
    assertThat(parse.getPipeline(), equalTo("kafka-to-jdbc"));
    assertThat(parse.getSchemaName() + " v" + parse.getSchemaVersion(), equalTo("Order v2"));
  }

  static List<ConsumerRecord<String, byte[]>> consumeAll(String topic, int expected) {
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                SharedSandbox.bootstrapServers(),
                "group.id",
                "check-" + topic,
                "auto.offset.reset",
                "earliest"),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 30_000;
      while (records.size() < expected && System.currentTimeMillis() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
      }
    }
    return records;
  }

  @Test
  void kafkaSinkKeysEachDeadLetterByOriginWithTheRecordAsAvro() throws Exception {
    String dlq = SharedSandbox.newTopic("dlq-avro", 1);
    String topic = runWithBadRecords("dl-kafka-avro", "--deadLetter=kafka:" + dlq);
    Map<String, DeadLetter> byOrigin = new TreeMap<>();
    for (ConsumerRecord<String, byte[]> record : consumeAll(dlq, 3)) {
      DeadLetter d = DeadLetterBinary.fromBytes(record.value());
      assertThat(record.key(), equalTo(d.getOrigin()));
      byOrigin.put(record.key(), d);
    }
    assertTheThreeDeadLetters(topic, byOrigin);
  }

  @Test
  void kafkaSinkWritesJsonValuesWhenAsked() throws Exception {
    String dlq = SharedSandbox.newTopic("dlq-json", 1);
    String topic =
        runWithBadRecords("dl-kafka-json", "--deadLetter=kafka:" + dlq, "--deadLetterFormat=json");
    Map<String, DeadLetter> byOrigin = new TreeMap<>();
    for (ConsumerRecord<String, byte[]> record : consumeAll(dlq, 3)) {
      String value = new String(record.value(), StandardCharsets.UTF_8);
      assertThat(value, containsString("\"payload_base64\""));
      byOrigin.put(record.key(), DeadLetterJson.fromJson(value));
    }
    assertTheThreeDeadLetters(topic, byOrigin);
  }

  @Test
  void jdbcSinkStoresEachDeadLetterInTheMigratedTable() throws Exception {
    String topic = runWithBadRecords("dl-jdbc", "--deadLetter=jdbc:sluice_dead_letters");
    Map<String, DeadLetter> byOrigin = new TreeMap<>();
    try (Connection c = SharedSandbox.get().postgres().connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT origin, reason, step, encode(payload, 'base64'), error_message, stack_trace,"
                    + " pipeline, schema_name, schema_version FROM sluice_dead_letters WHERE origin LIKE ?")) {
      s.setString(1, "kafka:" + topic + "/%");
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          byOrigin.put(
              rs.getString(1),
              DeadLetter.newBuilder()
                  .setOrigin(rs.getString(1))
                  .setReason(rs.getString(2))
                  .setStep(rs.getString(3))
                  .setPayload(ByteBuffer.wrap(Base64.getMimeDecoder().decode(rs.getString(4))))
                  .setPayloadPreview("")
                  .setErrorClass("")
                  .setErrorMessage(rs.getString(5))
                  .setStackTrace(rs.getString(6))
                  .setPipeline(rs.getString(7))
                  .setSchemaName(rs.getString(8))
                  .setSchemaVersion(rs.getInt(9))
                  .setFailedAt(Instant.EPOCH)
                  .build());
        }
      }
    }
    assertTheThreeDeadLetters(topic, byOrigin);
  }

  /** A rerun reads the same records and meets the same failures: each dead letter is kept once. */
  @Test
  void aRerunStoresEachJdbcDeadLetterOnce() throws Exception {
    String topic = runWithBadRecords("dl-jdbc-rerun", "--deadLetter=jdbc:sluice_dead_letters");
    load("dl-jdbc-rerun", topic, "--deadLetter=jdbc:sluice_dead_letters");
    assertThat(
        SharedSandbox.count(
            "SELECT count(*) FROM sluice_dead_letters WHERE origin LIKE 'kafka:" + topic + "/%'"),
        is(3L));
  }

  @Test
  void fileSinkWritesAvroWhenAsked() throws Exception {
    String topic =
        runWithBadRecords(
            "dl-file-avro", "--deadLetter=file:" + dir.resolve("dlq"), "--deadLetterFormat=avro");
    Map<String, DeadLetter> byOrigin = new TreeMap<>();
    for (Path file : LakeFiles.files(dir.resolve("dlq"), ".avro")) {
      try (DataFileReader<DeadLetter> reader =
          new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(DeadLetter.class))) {
        reader.forEach(d -> byOrigin.put(d.getOrigin(), d));
      }
    }
    assertTheThreeDeadLetters(topic, byOrigin);
  }

  @Test
  void aMalformedDeadLetterValueFailsBeforeTheRun() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(in.resolve("a.csv"), "order_id\n1\n");
    String[] common = {
      "files-to-lake", "--input=" + in + "/*.csv", "--output=" + dir.resolve("lake")
    };
    assertThat(run(common[0], common[1], common[2], "--deadLetter=kafka:"), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8), containsString("--deadLetter=kafka: names no topic"));
    assertThat(run(common[0], common[1], common[2], "--deadLetter=kafka:dlq"), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("needs Kafka brokers: set --deadLetterBootstrapServers"));
    assertThat(
        run(common[0], common[1], common[2], "--deadLetter=jdbc:dead letters"), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--deadLetter 'dead letters' is not a valid SQL identifier"));
    assertThat(run(common[0], common[1], common[2], "--deadLetter=/tmp/dlq"), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "--deadLetter must be file:<dir>, kafka:<topic> or jdbc:<table>, but was '/tmp/dlq'"));
    assertThat(Files.exists(dir.resolve("lake")), is(false));
  }
}

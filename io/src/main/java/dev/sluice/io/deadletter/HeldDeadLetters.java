package dev.sluice.io.deadletter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterBinary;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.util.MimeTypes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Reading back the dead letters a sink holds, for a replay, and keeping the mark a replay leaves on
 * those it re-fed, so that the next replay skips them:
 *
 * <ul>
 *   <li>{@code jdbc:} the row's {@code replayed_at} and {@code replay_run} columns (migration V7);
 *   <li>{@code file:} a ledger file per replay run, {@code <dir>/_replayed/<run>.jsonl}, listing
 *       the replayed dead letters' keys;
 *   <li>{@code kafka:} a ledger topic, {@code <topic>.replayed} (compacted, made by the first
 *       replay), whose records are keyed by the replayed dead letters' keys.
 * </ul>
 *
 * A file or Kafka dead letter's key is a hash of what identifies it: pipeline, step, origin,
 * attempt and payload (the same as the JDBC sink's unique index), so the same dead letter written
 * twice (a rerun of a failed run) is selected once.
 */
final class HeldDeadLetters {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration STALL = Duration.ofSeconds(60);

  private HeldDeadLetters() {}

  /** The key of a dead letter held by a file or Kafka sink. */
  static String identity(DeadLetter d) {
    return dev.sluice.transforms.core.RunTag.identity(
        utf8(d.getPipeline()),
        utf8(d.getStep()),
        utf8(d.getOrigin()),
        utf8(String.valueOf(d.getAttempt())),
        DeadLetterJson.bytes(d.getPayload()));
  }

  private static byte[] utf8(CharSequence text) {
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Selected, unmarked, each once, oldest first. */
  private static List<DeadLetterSink.Held> select(
      Iterable<DeadLetter> all, ReplayFilter filter, Set<String> replayed) {
    Map<String, DeadLetterSink.Held> selected = new HashMap<>();
    for (DeadLetter d : all) {
      if (filter.matches(d)) {
        String key = identity(d);
        if (!replayed.contains(key)) {
          selected.putIfAbsent(key, new DeadLetterSink.Held(key, d));
        }
      }
    }
    List<DeadLetterSink.Held> out = new ArrayList<>(selected.values());
    out.sort(
        Comparator.comparing((DeadLetterSink.Held h) -> h.letter().getFailedAt())
            .thenComparing(h -> h.letter().getOrigin().toString()));
    return out;
  }

  // ---- file:

  static List<DeadLetterSink.Held> files(DeadLetterSink.Files sink, ReplayFilter filter)
      throws IOException {
    String dir = sink.directory().replaceAll("/+$", "");
    Set<String> replayed = new HashSet<>();
    for (MatchResult.Metadata ledger : match(dir + "/_replayed/*.jsonl")) {
      for (String line : lines(ledger)) {
        if (!line.isBlank()) {
          replayed.add(JSON.readTree(line).get("dead_letter").asText());
        }
      }
    }
    List<DeadLetter> all = new ArrayList<>();
    for (MatchResult.Metadata file : match(dir + "/dead-letters*")) {
      String name = file.resourceId().getFilename();
      if (name.endsWith(".avro")) {
        try (InputStream in = Channels.newInputStream(FileSystems.open(file.resourceId()));
            DataFileStream<DeadLetter> avro =
                new DataFileStream<>(in, new SpecificDatumReader<>(DeadLetter.class))) {
          avro.forEach(all::add);
        }
      } else {
        int number = 0;
        for (String line : lines(file)) {
          number++;
          if (line.isBlank()) {
            continue;
          }
          try {
            all.add(DeadLetterJson.fromJson(line));
          } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                "--from=file:"
                    + sink.directory()
                    + ": "
                    + name
                    + " line "
                    + number
                    + " is no dead letter: "
                    + e.getMessage(),
                e);
          }
        }
      }
    }
    return select(all, filter, replayed);
  }

  static void markFiles(DeadLetterSink.Files sink, List<String> keys, String runId)
      throws IOException {
    String location = sink.directory().replaceAll("/+$", "") + "/_replayed/" + runId + ".jsonl";
    Instant now = Instant.now();
    try (OutputStream out =
        Channels.newOutputStream(
            FileSystems.create(FileSystems.matchNewResource(location, false), MimeTypes.TEXT))) {
      for (String key : keys) {
        out.write(ledgerLine(key, runId, now).getBytes(StandardCharsets.UTF_8));
        out.write('\n');
      }
    }
  }

  private static String ledgerLine(String key, String runId, Instant at) {
    ObjectNode line = JSON.createObjectNode();
    line.put("dead_letter", key);
    line.put("replay_run", runId);
    line.put("replayed_at", at.toString());
    return line.toString();
  }

  private static List<MatchResult.Metadata> match(String glob) throws IOException {
    List<MatchResult.Metadata> files =
        new ArrayList<>(FileSystems.match(glob, EmptyMatchTreatment.ALLOW).metadata());
    files.sort(Comparator.comparing(m -> m.resourceId().toString()));
    return files;
  }

  private static List<String> lines(MatchResult.Metadata file) throws IOException {
    try (BufferedReader reader =
        new BufferedReader(
            Channels.newReader(FileSystems.open(file.resourceId()), StandardCharsets.UTF_8))) {
      return reader.lines().toList();
    }
  }

  // ---- kafka:

  static String ledgerTopic(DeadLetterSink.Kafka sink) {
    return sink.topic() + ".replayed";
  }

  static List<DeadLetterSink.Held> kafka(DeadLetterSink.Kafka sink, ReplayFilter filter) {
    Set<String> replayed = new HashSet<>();
    readTopic(
        sink,
        ledgerTopic(sink),
        false,
        (key, value) -> replayed.add(new String(key, StandardCharsets.UTF_8)));
    List<DeadLetter> all = new ArrayList<>();
    readTopic(
        sink,
        sink.topic(),
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
                    + sink.topic()
                    + " holds a record that is no dead letter: "
                    + e.getMessage(),
                e);
          }
        });
    return select(all, filter, replayed);
  }

  /** Every record of the topic up to its end now; false when the topic does not exist. */
  private static boolean readTopic(
      DeadLetterSink.Kafka sink, String topic, boolean required, BiConsumer<byte[], byte[]> each) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sink.bootstrapServers());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (Consumer<byte[], byte[]> consumer = sink.properties().consumerFactory().apply(config)) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        if (required) {
          throw new IllegalArgumentException(
              "--from=kafka:"
                  + topic
                  + ": topic "
                  + topic
                  + " does not exist on "
                  + sink.bootstrapServers());
        }
        return false;
      }
      List<TopicPartition> partitions =
          infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
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
                  + topic
                  + " on "
                  + sink.bootstrapServers()
                  + " made no progress for "
                  + STALL.toSeconds()
                  + " s before its end offsets "
                  + end);
        }
        for (ConsumerRecord<byte[], byte[]> record : records) {
          if (record.offset() < end.get(new TopicPartition(topic, record.partition()))
              && record.value() != null) {
            each.accept(record.key() == null ? new byte[0] : record.key(), record.value());
          }
        }
      }
      return true;
    }
  }

  static void markKafka(DeadLetterSink.Kafka sink, List<String> keys, String runId)
      throws Exception {
    String ledger = ledgerTopic(sink);
    Map<String, Object> admin = new HashMap<>(sink.properties().load());
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, sink.bootstrapServers());
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
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sink.bootstrapServers());
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    Instant now = Instant.now();
    try (Producer<String, byte[]> producer = sink.properties().producerFactory().apply(config)) {
      List<Future<?>> sent = new ArrayList<>();
      for (String key : keys) {
        sent.add(
            producer.send(
                new ProducerRecord<>(
                    ledger, key, ledgerLine(key, runId, now).getBytes(StandardCharsets.UTF_8))));
      }
      producer.flush();
      for (Future<?> f : sent) {
        f.get();
      }
    }
  }

  // ---- jdbc:

  private static final String COLUMNS =
      "id, pipeline, step, origin, reason, payload, payload_preview, error_class, error_message,"
          + " stack_trace, rule, attempt, failed_at, schema_name, schema_version, source_timestamp,"
          + " payload_header";

  static List<DeadLetterSink.Held> jdbc(DeadLetterSink.Jdbc sink, ReplayFilter filter)
      throws SQLException {
    String table = SqlIdentifiers.quote("from", sink.table());
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM "
            + table
            + " WHERE pipeline = ? AND replayed_at IS NULL"
            + (filter.since() == null ? "" : " AND failed_at >= ?")
            + (filter.until() == null ? "" : " AND failed_at < ?")
            + " ORDER BY failed_at, id";
    List<DeadLetterSink.Held> out = new ArrayList<>();
    try (Connection c = sink.connection().openDirect()) {
      c.setReadOnly(true);
      try (PreparedStatement s = c.prepareStatement(sql)) {
        int i = 1;
        s.setString(i++, filter.pipeline());
        if (filter.since() != null) {
          s.setTimestamp(i++, Timestamp.from(filter.since()));
        }
        if (filter.until() != null) {
          s.setTimestamp(i, Timestamp.from(filter.until()));
        }
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            DeadLetter d = row(rs);
            if (filter.matches(d)) {
              out.add(new DeadLetterSink.Held(Long.toString(rs.getLong("id")), d));
            }
          }
        }
      }
    } catch (SQLException e) {
      if ("42703".equals(e.getSQLState())) {
        throw new IllegalArgumentException(
            "--from=jdbc:"
                + sink.table()
                + " has no replay columns: apply the migrations (sluice migrate; V7 adds"
                + " replayed_at and replay_run)",
            e);
      }
      throw e;
    }
    return out;
  }

  private static DeadLetter row(ResultSet rs) throws SQLException {
    Timestamp source = rs.getTimestamp("source_timestamp");
    byte[] header = rs.getBytes("payload_header");
    int version = rs.getInt("schema_version");
    boolean noVersion = rs.wasNull();
    return DeadLetter.newBuilder()
        .setPipeline(rs.getString("pipeline"))
        .setStep(rs.getString("step"))
        .setOrigin(rs.getString("origin"))
        .setReason(rs.getString("reason"))
        .setPayload(ByteBuffer.wrap(rs.getBytes("payload")))
        .setPayloadPreview(rs.getString("payload_preview"))
        .setErrorClass(rs.getString("error_class"))
        .setErrorMessage(rs.getString("error_message"))
        .setStackTrace(rs.getString("stack_trace"))
        .setRule(rs.getString("rule"))
        .setAttempt(rs.getInt("attempt"))
        .setFailedAt(rs.getTimestamp("failed_at").toInstant())
        .setSchemaName(rs.getString("schema_name"))
        .setSchemaVersion(noVersion ? null : version)
        .setSourceTimestamp(source == null ? null : source.toInstant())
        .setPayloadHeader(header == null ? null : ByteBuffer.wrap(header))
        .build();
  }

  static void markJdbc(DeadLetterSink.Jdbc sink, List<String> keys, String runId)
      throws SQLException {
    String sql =
        "UPDATE "
            + SqlIdentifiers.quote("from", sink.table())
            + " SET replayed_at = now(), replay_run = ? WHERE id = ANY (?) AND replayed_at IS NULL";
    try (Connection c = sink.connection().openDirect()) {
      c.setAutoCommit(false);
      try (PreparedStatement s = c.prepareStatement(sql)) {
        for (int from = 0; from < keys.size(); from += 10_000) {
          Long[] ids =
              keys.subList(from, Math.min(keys.size(), from + 10_000)).stream()
                  .map(Long::valueOf)
                  .toArray(Long[]::new);
          Array array = c.createArrayOf("bigint", ids);
          s.setString(1, runId);
          s.setArray(2, array);
          s.executeUpdate();
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      }
    }
  }
}

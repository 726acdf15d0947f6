package dev.sluice.io.deadletter;

import dev.sluice.io.files.LocalDirectory;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcDeadLetterWriter;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterBinary;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.io.AvroIO;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.joda.time.Duration;

/**
 * Where dead letters go, as given by {@code --deadLetter=}: one of three sinks.
 *
 * <ul>
 *   <li>{@link Files} ({@code file:<dir>}): JSON lines ({@code json}, the default) or Avro files;
 *   <li>{@link Kafka} ({@code kafka:<topic>}): key = the origin, value = the dead letter as Avro
 *       binary (the default), or as JSON with format {@code json};
 *   <li>{@link Jdbc} ({@code jdbc:<table>}): rows of a table made by the dead-letter migration.
 * </ul>
 *
 * A malformed value fails before the run, with a message naming what is wrong.
 */
public sealed interface DeadLetterSink extends Serializable
    permits DeadLetterSink.Files, DeadLetterSink.Kafka, DeadLetterSink.Jdbc {

  /** How dead letters are serialized. */
  enum Format {
    JSON,
    AVRO;

    /** Parses {@code json} or {@code avro}; null means the sink's default. */
    public static Format parse(String value) {
      if (value == null) {
        return null;
      }
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "json", "jsonl" -> JSON;
        case "avro" -> AVRO;
        default ->
            throw new IllegalArgumentException(
                "--deadLetterFormat must be json or avro, but was '" + value + "'");
      };
    }
  }

  /**
   * The services a Kafka or JDBC dead-letter sink writes to.
   *
   * @param kafkaBootstrapServers brokers for {@code kafka:}, or null
   * @param kafkaProperties client settings for {@code kafka:}
   * @param jdbc the database for {@code jdbc:}, or null
   */
  record Targets(
      @Nullable String kafkaBootstrapServers,
      KafkaClientProperties kafkaProperties,
      @Nullable JdbcConnection jdbc)
      implements Serializable {
    public static Targets none() {
      return new Targets(null, KafkaClientProperties.fromFile(null), null);
    }
  }

  /** How often a streaming run writes a file of the dead letters gathered so far. */
  Duration FILE_FLUSH = Duration.standardSeconds(5);

  /** Parses a {@code --deadLetter} value, failing with a message naming what is wrong. */
  static DeadLetterSink parse(String spec, @Nullable Format format, Targets targets) {
    Objects.requireNonNull(targets, "targets");
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException(
          "--deadLetter is required: file:<dir>, kafka:<topic> or jdbc:<table>");
    }
    int colon = spec.indexOf(':');
    String scheme = colon < 0 ? "" : spec.substring(0, colon).toLowerCase(Locale.ROOT);
    String target = colon < 0 ? "" : spec.substring(colon + 1);
    String names =
        switch (scheme) {
          case "file" -> "directory";
          case "kafka" -> "topic";
          case "jdbc" -> "table";
          default ->
              throw new IllegalArgumentException(
                  "--deadLetter must be file:<dir>, kafka:<topic> or jdbc:<table>, but was '"
                      + spec
                      + "'");
        };
    if (target.isBlank()) {
      throw new IllegalArgumentException("--deadLetter=" + spec + " names no " + names);
    }
    return switch (scheme) {
      case "file" -> new Files(target, format == null ? Format.JSON : format, null);
      case "kafka" -> {
        if (targets.kafkaBootstrapServers() == null) {
          throw new IllegalArgumentException(
              "--deadLetter=" + spec + " needs Kafka brokers: set --deadLetterBootstrapServers");
        }
        yield new Kafka(
            target,
            format == null ? Format.AVRO : format,
            targets.kafkaBootstrapServers(),
            targets.kafkaProperties());
      }
      default -> {
        SqlIdentifiers.parts("deadLetter", target);
        if (targets.jdbc() == null) {
          throw new IllegalArgumentException(
              "--deadLetter=" + spec + " needs a database: set --deadLetterJdbcUrl");
        }
        yield new Jdbc(target, targets.jdbc());
      }
    };
  }

  /**
   * Names this run's dead letters after what the run read ({@code dead-letters-<tag>-...}), so that
   * a rerun of the same input replaces its own dead letters and never another run's (file sinks;
   * the others keep every dead letter as a record of its own). Null keeps the plain name.
   */
  default DeadLetterSink forRun(@Nullable String tag) {
    if (tag != null && !tag.matches("[0-9A-Za-z_-]+")) {
      throw new IllegalArgumentException("a run tag is letters, digits, - and _, but was " + tag);
    }
    return this;
  }

  /**
   * Checks, before the run reads anything, that the sink can take dead letters: a {@code file:}
   * directory that can be created or written, a {@code kafka:} topic that exists, a {@code jdbc:}
   * table that exists. A sink that fails only when the first dead letter arrives would fail the run
   * after its good rows were written.
   */
  void checkReachable();

  /** Where the dead letters land, for run summaries and lineage: {@code scheme:target}. */
  String location();

  /**
   * A dead letter the sink holds, with the key its replay mark is kept under (a row id for {@code
   * jdbc:}, a hash of pipeline, step, origin, attempt and payload otherwise).
   */
  record Held(String key, DeadLetter letter) {}

  /**
   * The dead letters this sink holds that {@code filter} selects and no replay has marked, each
   * once, oldest first. Reads; changes nothing.
   */
  List<Held> held(ReplayFilter filter) throws Exception;

  /** Marks the dead letters with these keys as replayed by run {@code runId}. */
  void markReplayed(List<String> keys, String runId) throws Exception;

  /** Where this sink keeps the replay marks, in words for the summary and the README. */
  String replayLedger();

  /** The dead letters as a dataset named for OpenLineage. */
  default dev.sluice.io.lineage.LineageDataset lineageDataset() {
    String schema = DeadLetter.getClassSchema().toString();
    if (this instanceof Files f) {
      return dev.sluice.io.lineage.LineageDataset.files(f.directory(), schema);
    }
    if (this instanceof Kafka k) {
      return dev.sluice.io.lineage.LineageDataset.kafka(k.bootstrapServers(), k.topic(), schema);
    }
    Jdbc j = (Jdbc) this;
    return dev.sluice.io.lineage.LineageDataset.postgres(j.connection(), j.table(), schema);
  }

  /**
   * The transform that writes dead letters to this sink, reporting it as a lineage sink. Opens no
   * connection while the graph is built.
   */
  PTransform<PCollection<DeadLetter>, ? extends POutput> writer();

  /**
   * Dead-letter files under a directory. Bounded output is one file with a deterministic name
   * ({@code dead-letters-<run tag>-00000-of-00001.jsonl}), empty when nothing failed, so a rerun of
   * the same input replaces its previous dead letters rather than leaving them behind, while other
   * inputs' dead letters stay; streaming output is a file per {@link #FILE_FLUSH}.
   */
  record Files(String directory, Format format, @Nullable String runTag) implements DeadLetterSink {
    @Override
    public DeadLetterSink forRun(@Nullable String tag) {
      DeadLetterSink.super.forRun(tag);
      return new Files(directory, format, tag);
    }

    @Override
    public void checkReachable() {
      LocalDirectory.checkWritable("deadLetter", "file:" + directory);
    }

    @Override
    public String location() {
      return "file:" + directory;
    }

    @Override
    public List<Held> held(ReplayFilter filter) throws IOException {
      return HeldDeadLetters.files(this, filter);
    }

    @Override
    public void markReplayed(List<String> keys, String runId) throws IOException {
      HeldDeadLetters.markFiles(this, keys, runId);
    }

    @Override
    public String replayLedger() {
      return "file:" + directory.replaceAll("/+$", "") + "/_replayed/<run>.jsonl";
    }

    @Override
    public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
      return new WriteFiles(this);
    }
  }

  /** Dead letters as records of a Kafka topic, keyed by their origin. */
  record Kafka(
      String topic, Format format, String bootstrapServers, KafkaClientProperties properties)
      implements DeadLetterSink {
    @Override
    public void checkReachable() {
      Map<String, Object> config = new HashMap<>();
      config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      try (Consumer<byte[], byte[]> consumer = properties.consumerFactory().apply(config)) {
        var partitions = consumer.partitionsFor(topic, java.time.Duration.ofSeconds(30));
        if (partitions == null || partitions.isEmpty()) {
          throw new IllegalArgumentException(
              "--deadLetter=kafka:"
                  + topic
                  + ": topic "
                  + topic
                  + " does not exist on "
                  + dev.sluice.io.secrets.Redaction.url(bootstrapServers)
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
    public List<Held> held(ReplayFilter filter) {
      return HeldDeadLetters.kafka(this, filter);
    }

    @Override
    public void markReplayed(List<String> keys, String runId) throws Exception {
      HeldDeadLetters.markKafka(this, keys, runId);
    }

    @Override
    public String replayLedger() {
      return "kafka:" + HeldDeadLetters.ledgerTopic(this);
    }

    @Override
    public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
      return new WriteKafka(this);
    }
  }

  /** Dead letters as rows of a table made by the {@code sluice_dead_letters} migration. */
  record Jdbc(String table, JdbcConnection connection) implements DeadLetterSink {
    @Override
    public void checkReachable() {
      try (Connection c = connection.openDirect();
          PreparedStatement s = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
        s.setString(1, SqlIdentifiers.quote("deadLetter", table));
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          if (!rs.getBoolean(1)) {
            throw new IllegalArgumentException(
                "--deadLetter=jdbc:"
                    + table
                    + ": table "
                    + table
                    + " does not exist on "
                    + connection.safeUrl()
                    + "; apply the migrations (sluice migrate)");
          }
        }
      } catch (SQLException e) {
        throw new IllegalArgumentException(
            "--deadLetter=jdbc:"
                + table
                + ": cannot check the table on "
                + connection.safeUrl()
                + ": "
                + e.getMessage(),
            e);
      }
    }

    @Override
    public String location() {
      return "jdbc:" + table;
    }

    @Override
    public List<Held> held(ReplayFilter filter) throws SQLException {
      return HeldDeadLetters.jdbc(this, filter);
    }

    @Override
    public void markReplayed(List<String> keys, String runId) throws SQLException {
      HeldDeadLetters.markJdbc(this, keys, runId);
    }

    @Override
    public String replayLedger() {
      return "jdbc:" + table + " (columns replayed_at, replay_run)";
    }

    @Override
    public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
      return new WriteJdbc(this);
    }
  }

  /** The writer of one sink: named {@code WriteDeadLetters}, showing where it writes. */
  abstract class Writer<S extends DeadLetterSink>
      extends PTransform<PCollection<DeadLetter>, POutput> {
    final S sink;

    Writer(S sink) {
      super("WriteDeadLetters");
      this.sink = sink;
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder.add(DisplayData.item("deadLetter", sink.location()));
    }
  }

  /** Writes a {@link Files} sink. */
  final class WriteFiles extends Writer<Files> {
    WriteFiles(Files sink) {
      super(sink);
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder
          .add(DisplayData.item("format", sink.format().name()))
          .addIfNotNull(DisplayData.item("runTag", sink.runTag()));
    }

    @Override
    public POutput expand(PCollection<DeadLetter> input) {
      PCollection<DeadLetter> deadLetters =
          input.apply("Lineage", ReportLineage.sink("file", sink.directory()));
      boolean windowed = deadLetters.isBounded() == PCollection.IsBounded.UNBOUNDED;
      if (windowed) {
        // Streaming: a file of the dead letters gathered every FILE_FLUSH, whatever the windowing
        // of the steps that produced them.
        deadLetters =
            deadLetters.apply(
                "EveryFlush",
                Window.<DeadLetter>into(new GlobalWindows())
                    .triggering(
                        Repeatedly.forever(
                            AfterProcessingTime.pastFirstElementInPane().plusDelayOf(FILE_FLUSH)))
                    .withAllowedLateness(Duration.ZERO)
                    .discardingFiredPanes());
      }
      String prefix =
          sink.directory().replaceAll("/+$", "")
              + "/dead-letters"
              + (sink.runTag() == null ? "" : "-" + sink.runTag());
      if (sink.format() == Format.AVRO) {
        AvroIO.Write<DeadLetter> write =
            AvroIO.write(DeadLetter.class).to(prefix).withSuffix(".avro").withNumShards(1);
        return deadLetters.apply("WriteAvro", windowed ? write.withWindowedWrites() : write);
      }
      TextIO.Write write = TextIO.write().to(prefix).withSuffix(".jsonl").withNumShards(1);
      return deadLetters
          .apply("ToJson", MapElements.into(TypeDescriptors.strings()).via(DeadLetterJson::toJson))
          .setCoder(StringUtf8Coder.of())
          .apply("WriteJsonLines", windowed ? write.withWindowedWrites() : write);
    }
  }

  /** Writes a {@link Kafka} sink. */
  final class WriteKafka extends Writer<Kafka> {
    WriteKafka(Kafka sink) {
      super(sink);
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder
          .add(
              DisplayData.item(
                  "bootstrapServers",
                  dev.sluice.io.secrets.Redaction.address(sink.bootstrapServers())))
          .add(DisplayData.item("format", sink.format().name()));
    }

    @Override
    public POutput expand(PCollection<DeadLetter> input) {
      boolean json = sink.format() == Format.JSON;
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

  /** Writes a {@link Jdbc} sink. */
  final class WriteJdbc extends Writer<Jdbc> {
    WriteJdbc(Jdbc sink) {
      super(sink);
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder.add(DisplayData.item("jdbcUrl", sink.connection().safeUrl()));
    }

    @Override
    public POutput expand(PCollection<DeadLetter> input) {
      return input
          .apply("Lineage", ReportLineage.sink("jdbc", sink.table()))
          .apply("WriteJdbc", JdbcDeadLetterWriter.into(sink.connection(), sink.table()));
    }
  }
}

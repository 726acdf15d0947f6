package dev.sluice.io.deadletter;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcDeadLetterWriter;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterBinary;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
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
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Where dead letters go, as given by {@code --deadLetter=}:
 *
 * <ul>
 *   <li>{@code file:<dir>}: JSON lines ({@code json}, the default) or Avro files;
 *   <li>{@code kafka:<topic>}: key = the origin, value = the dead letter as Avro binary (the
 *       default), or as JSON with format {@code json};
 *   <li>{@code jdbc:<table>}: rows of a table made by the dead-letter migration.
 * </ul>
 *
 * A malformed value fails before the run, with a message naming what is wrong.
 */
public final class DeadLetterSink {
  /** How dead letters are serialized. */
  public enum Format {
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
  public record Targets(
      @Nullable String kafkaBootstrapServers,
      KafkaClientProperties kafkaProperties,
      @Nullable JdbcConnection jdbc) {
    public static Targets none() {
      return new Targets(null, KafkaClientProperties.fromFile(null), null);
    }
  }

  /** How often a streaming run writes a file of the dead letters gathered so far. */
  static final Duration FILE_FLUSH = Duration.standardSeconds(5);

  private final String scheme;
  private final String target;
  private final Format format;
  private final Targets targets;
  private final @Nullable String runTag;

  private DeadLetterSink(
      String scheme, String target, Format format, Targets targets, @Nullable String runTag) {
    this.scheme = scheme;
    this.target = target;
    this.format = format;
    this.targets = targets;
    this.runTag = runTag;
  }

  /**
   * Names this run's dead-letter file after what the run read ({@code dead-letters-<tag>-...}), so
   * that a rerun of the same input replaces its own dead letters and never another run's. Null
   * keeps the plain name {@code dead-letters-...}.
   */
  public DeadLetterSink forRun(@Nullable String tag) {
    if (tag != null && !tag.matches("[0-9A-Za-z_-]+")) {
      throw new IllegalArgumentException("a run tag is letters, digits, - and _, but was " + tag);
    }
    return new DeadLetterSink(scheme, target, format, targets, tag);
  }

  /** Parses a {@code --deadLetter} value, failing with a message naming what is wrong. */
  public static DeadLetterSink parse(String spec, Format format, Targets targets) {
    Objects.requireNonNull(targets, "targets");
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException(
          "--deadLetter is required: file:<dir>, kafka:<topic> or jdbc:<table>");
    }
    int colon = spec.indexOf(':');
    String scheme = colon < 0 ? "" : spec.substring(0, colon).toLowerCase(Locale.ROOT);
    String target = colon < 0 ? "" : spec.substring(colon + 1);
    switch (scheme) {
      case "file", "kafka", "jdbc" -> {}
      default ->
          throw new IllegalArgumentException(
              "--deadLetter must be file:<dir>, kafka:<topic> or jdbc:<table>, but was '"
                  + spec
                  + "'");
    }
    if (target.isBlank()) {
      throw new IllegalArgumentException(
          "--deadLetter="
              + spec
              + " names no "
              + switch (scheme) {
                case "file" -> "directory";
                case "kafka" -> "topic";
                default -> "table";
              });
    }
    if (scheme.equals("kafka") && targets.kafkaBootstrapServers() == null) {
      throw new IllegalArgumentException(
          "--deadLetter=" + spec + " needs Kafka brokers: set --deadLetterBootstrapServers");
    }
    if (scheme.equals("jdbc")) {
      SqlIdentifiers.parts("deadLetter", target);
      if (targets.jdbc() == null) {
        throw new IllegalArgumentException(
            "--deadLetter=" + spec + " needs a database: set --deadLetterJdbcUrl");
      }
    }
    if (format == null) {
      format = scheme.equals("kafka") ? Format.AVRO : Format.JSON;
    }
    return new DeadLetterSink(scheme, target, format, targets, null);
  }

  /**
   * Checks, before the run reads anything, that the sink can take dead letters: a {@code file:}
   * directory that can be created or written, a {@code kafka:} topic that exists, a {@code jdbc:}
   * table that exists. A sink that fails only when the first dead letter arrives would fail the run
   * after its good rows were written.
   */
  public void checkReachable() {
    switch (scheme) {
      case "file" ->
          dev.sluice.io.files.LocalDirectory.checkWritable("deadLetter", "file:" + target);
      case "kafka" -> checkTopic();
      default -> checkTable();
    }
  }

  private void checkTopic() {
    java.util.Map<String, Object> config = new java.util.HashMap<>();
    config.put(
        org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        targets.kafkaBootstrapServers());
    try (org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer =
        targets.kafkaProperties().consumerFactory().apply(config)) {
      var partitions = consumer.partitionsFor(target, java.time.Duration.ofSeconds(30));
      if (partitions == null || partitions.isEmpty()) {
        throw new IllegalArgumentException(
            "--deadLetter=kafka:"
                + target
                + ": topic "
                + target
                + " does not exist on "
                + targets.kafkaBootstrapServers()
                + "; create it before the run");
      }
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new IllegalArgumentException(
          "--deadLetter=kafka:" + target + ": cannot reach the brokers: " + e.getMessage(), e);
    }
  }

  private void checkTable() {
    try (java.sql.Connection c = targets.jdbc().openDirect();
        java.sql.PreparedStatement s = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      s.setString(1, SqlIdentifiers.quote("deadLetter", target));
      try (java.sql.ResultSet rs = s.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw new IllegalArgumentException(
              "--deadLetter=jdbc:"
                  + target
                  + ": table "
                  + target
                  + " does not exist on "
                  + targets.jdbc().safeUrl()
                  + "; apply the migrations (sluice migrate)");
        }
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalArgumentException(
          "--deadLetter=jdbc:"
              + target
              + ": cannot check the table on "
              + targets.jdbc().safeUrl()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  public String scheme() {
    return scheme;
  }

  public String target() {
    return target;
  }

  /** Where the dead letters land, for run summaries and lineage. */
  public String location() {
    return scheme + ":" + target;
  }

  /**
   * The transform that writes dead letters to this sink. Bounded file output is one file with a
   * deterministic name ({@code dead-letters-<run tag>-00000-of-00001.jsonl}), empty when nothing
   * failed, so a rerun of the same input replaces its previous dead letters rather than leaving
   * them behind, while other inputs' dead letters stay; streaming file output is one file per
   * window.
   */
  public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
    return new PTransform<PCollection<DeadLetter>, POutput>("WriteDeadLetters") {
      @Override
      public POutput expand(PCollection<DeadLetter> deadLetters) {
        PCollection<DeadLetter> reported =
            deadLetters.apply("Lineage", ReportLineage.sink(scheme, target));
        return switch (scheme) {
          case "kafka" -> writeKafka(reported);
          case "jdbc" ->
              reported.apply("WriteJdbc", JdbcDeadLetterWriter.into(targets.jdbc(), target));
          default -> writeFiles(reported);
        };
      }
    };
  }

  private POutput writeKafka(PCollection<DeadLetter> deadLetters) {
    boolean json = format == Format.JSON;
    return deadLetters
        .apply(
            "ToKafkaRecords",
            MapElements.into(
                    TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(byte[].class)))
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
                .withBootstrapServers(targets.kafkaBootstrapServers())
                .withTopic(target)
                .withKeySerializer(org.apache.kafka.common.serialization.StringSerializer.class)
                .withValueSerializer(
                    org.apache.kafka.common.serialization.ByteArraySerializer.class)
                .withProducerFactoryFn(targets.kafkaProperties().producerFactory()));
  }

  private POutput writeFiles(PCollection<DeadLetter> deadLetters) {
    boolean windowed = deadLetters.isBounded() == PCollection.IsBounded.UNBOUNDED;
    if (windowed) {
      // Streaming: a file of the dead letters gathered every FILE_FLUSH, whatever the windowing of
      // the steps that produced them.
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
        target.replaceAll("/+$", "") + "/dead-letters" + (runTag == null ? "" : "-" + runTag);
    if (format == Format.AVRO) {
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

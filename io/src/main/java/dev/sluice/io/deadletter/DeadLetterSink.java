package dev.sluice.io.deadletter;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.schemas.DeadLetter;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.annotation.Nullable;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.joda.time.Duration;

/**
 * Where dead letters go, as given by {@code --deadLetter=}: one of three sinks.
 *
 * <ul>
 *   <li>{@link FileDeadLetters} ({@code file:<dir>}): JSON lines ({@code json}, the default) or
 *       Avro files;
 *   <li>{@link KafkaDeadLetters} ({@code kafka:<topic>}): key = the origin, value = the dead letter
 *       as Avro binary (the default), or as JSON with format {@code json};
 *   <li>{@link JdbcDeadLetters} ({@code jdbc:<table>}): rows of a table made by the dead-letter
 *       migration.
 * </ul>
 *
 * Each store is one class that owns writing, reading back for a replay and marking what a replay
 * re-fed.
 *
 * <p>A malformed value fails before the run, with a message naming what is wrong.
 */
public sealed interface DeadLetterSink extends Serializable
    permits FileDeadLetters, KafkaDeadLetters, JdbcDeadLetters {

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
      case "file" -> new FileDeadLetters(target, format == null ? Format.JSON : format, null);
      case "kafka" -> {
        if (targets.kafkaBootstrapServers() == null) {
          throw new IllegalArgumentException(
              "--deadLetter=" + spec + " needs Kafka brokers: set --deadLetterBootstrapServers");
        }
        yield new KafkaDeadLetters(
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
        yield new JdbcDeadLetters(target, targets.jdbc());
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
  LineageDataset lineageDataset();

  /**
   * The transform that writes dead letters to this sink, reporting it as a lineage sink. Opens no
   * connection while the graph is built.
   */
  PTransform<PCollection<DeadLetter>, ? extends POutput> writer();

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
}

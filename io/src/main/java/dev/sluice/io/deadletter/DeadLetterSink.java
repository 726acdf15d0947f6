package dev.sluice.io.deadletter;

import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.util.Locale;
import java.util.Objects;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.io.AvroIO;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Where dead letters go, as given by {@code --deadLetter=}: {@code file:<dir>} (JSON lines, or Avro
 * with format {@code avro}); {@code kafka:<topic>} and {@code jdbc:<table>} are recognised and
 * rejected with a clear message until their sinks exist. A malformed value fails before the run.
 */
public final class DeadLetterSink {
  /** How dead letters are serialized. */
  public enum Format {
    JSON,
    AVRO;

    public static Format parse(String value) {
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "json", "jsonl" -> JSON;
        case "avro" -> AVRO;
        default ->
            throw new IllegalArgumentException(
                "--deadLetterFormat must be json or avro, but was '" + value + "'");
      };
    }
  }

  private final String scheme;
  private final String target;
  private final Format format;

  private DeadLetterSink(String scheme, String target, Format format) {
    this.scheme = scheme;
    this.target = target;
    this.format = format;
  }

  /** Parses a {@code --deadLetter} value, failing with a message naming what is wrong. */
  public static DeadLetterSink parse(String spec, Format format) {
    Objects.requireNonNull(format, "format");
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
              + (scheme.equals("file") ? "directory" : scheme.equals("kafka") ? "topic" : "table"));
    }
    if (!scheme.equals("file")) {
      throw new IllegalArgumentException(
          "--deadLetter="
              + spec
              + ": the "
              + scheme
              + " dead-letter sink is not available yet; use file:<dir>");
    }
    return new DeadLetterSink(scheme, target, format);
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
   * The transform that writes dead letters to this sink. A bounded run writes one file with a
   * deterministic name ({@code dead-letters-00000-of-00001.jsonl}), empty when nothing failed, so a
   * rerun replaces the previous run's dead letters instead of leaving them behind. A streaming run
   * writes one file per window.
   */
  public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
    return new PTransform<PCollection<DeadLetter>, POutput>("WriteDeadLetters") {
      @Override
      public POutput expand(PCollection<DeadLetter> deadLetters) {
        boolean windowed = deadLetters.isBounded() == PCollection.IsBounded.UNBOUNDED;
        deadLetters = deadLetters.apply("Lineage", ReportLineage.sink(scheme, target));
        String prefix = target.replaceAll("/+$", "") + "/dead-letters";
        if (format == Format.AVRO) {
          AvroIO.Write<DeadLetter> write =
              AvroIO.write(DeadLetter.class).to(prefix).withSuffix(".avro").withNumShards(1);
          return deadLetters.apply("WriteAvro", windowed ? write.withWindowedWrites() : write);
        }
        TextIO.Write write = TextIO.write().to(prefix).withSuffix(".jsonl").withNumShards(1);
        return deadLetters
            .apply(
                "ToJson", MapElements.into(TypeDescriptors.strings()).via(DeadLetterJson::toJson))
            .setCoder(StringUtf8Coder.of())
            .apply("WriteJsonLines", windowed ? write.withWindowedWrites() : write);
      }
    };
  }
}

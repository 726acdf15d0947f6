package dev.sluice.transforms.parse;

import java.util.Locale;

/** The text formats Sluice parses into a schema, one record per line. */
public enum InputFormat {
  /** RFC 4180 CSV with a header row naming the schema's fields; an empty cell is null. */
  CSV,
  /** One JSON object per line (or per message), keyed by the schema's field names. */
  JSONL,
  /** Avro binary encoding of one record of the schema per message. */
  AVRO,
  /**
   * Debezium change events as Kafka Connect's JSON converter writes them, with or without the
   * schema wrapper (see {@link ChangeEvents}); an empty message is a tombstone.
   */
  DEBEZIUM;

  /** Parses {@code csv}, {@code jsonl} or {@code json} (case-insensitive). */
  public static InputFormat parse(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "csv" -> CSV;
      case "jsonl", "json" -> JSONL;
      case "avro" -> AVRO;
      case "debezium" -> DEBEZIUM;
      default ->
          throw new IllegalArgumentException(
              "Unknown format '" + value + "'; expected one of: csv, jsonl, json, avro, debezium");
    };
  }

  /**
   * Why an empty message of this format is filtered: a tombstone of a change topic, a blank line.
   */
  public String emptyCause() {
    return this == DEBEZIUM ? "tombstone" : "blank";
  }

  /** Whether each file of this format starts with a header line. */
  public boolean hasHeader() {
    return this == CSV;
  }
}

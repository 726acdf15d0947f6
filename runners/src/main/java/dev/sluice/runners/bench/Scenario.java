package dev.sluice.runners.bench;

import java.util.Locale;

/** What the harness measures, each in a JVM of its own (so peak RSS is the scenario's). */
public enum Scenario {
  KAFKA_TO_JDBC_DIRECT("kafka-to-jdbc", "kafka-to-jdbc --bounded on the Direct runner, end to end"),
  KAFKA_TO_JDBC_FLINK("kafka-to-jdbc", "kafka-to-jdbc --bounded on Flink [local], end to end"),
  KAFKA_TO_JDBC_SQL_FLINK(
      "kafka-to-jdbc",
      "kafka-to-jdbc --bounded on Flink [local] with --sql: a projection, a filter and derived"
          + " columns, into a table of its own shape"),
  KAFKA_TO_JDBC_SCD2_FLINK(
      "kafka-to-jdbc",
      "kafka-to-jdbc --bounded --history=scd2 on Flink [local]: every version into the ledger, the"
          + " batch's keys' history rebuilt from it in the same transaction"),
  KAFKA_TO_LAKE_FLINK(
      "kafka-to-jdbc",
      "kafka-to-lake --bounded on Flink [local] into an Iceberg table (embedded catalog), appended"),
  SINK_SLUICE("jdbc sink", "Sluice's JdbcUpsert alone (Direct runner), generated rows"),
  SINK_LOOP("jdbc sink", "plain pgjdbc batched upsert loop: batch 1000, commit per batch"),
  SINK_COPY("jdbc sink", "plain COPY into an unlogged staging table, then INSERT ... ON CONFLICT"),
  FILES_TO_LAKE_DIRECT("files-to-lake", "files-to-lake on the Direct runner, end to end"),
  FILES_MANY_SMALL(
      "files-to-lake",
      "files-to-lake on the Direct runner, the same orders spread over 20,000 small files"),
  FILES_TO_ICEBERG_DIRECT(
      "files-to-lake",
      "files-to-lake into an Iceberg table (embedded catalog) on the Direct runner"),
  ICEBERG_LOOP(
      "files-to-lake",
      "plain single-threaded loop: same parser, Iceberg's generic Parquet writer, one commit"),
  FILES_LOOP(
      "files-to-lake", "plain single-threaded loop: same parse and checks, Avro files by date"),
  PEER_DEBEZIUM_JDBC(
      "peer",
      "peer: Debezium JDBC sink connector 3.6 in Kafka Connect 3.9 standalone, upsert by record key,"
          + " the same orders as JSON with schemas");

  final String group;
  final String description;

  Scenario(String group, String description) {
    this.group = group;
    this.description = description;
  }

  /** {@code KAFKA_TO_JDBC_DIRECT} → {@code kafka-to-jdbc-direct}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static Scenario byId(String id) {
    for (Scenario s : values()) {
      if (s.id().equals(id)) {
        return s;
      }
    }
    throw new IllegalArgumentException("Unknown scenario '" + id + "'");
  }
}

package dev.sluice.runners.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A real change-data-capture source: Debezium's PostgreSQL connector (3.6.1.Final, plugin {@code
 * pgoutput}) in a Kafka Connect standalone worker of its own JVM, with the classpath the {@code
 * runners/debezium} module resolved, publishing the changes of tables of the sandbox's PostgreSQL
 * (started with {@code wal_level=logical}) to the broker: one topic per table, {@code
 * <prefix>.public.<table>}, keyed by the primary key, an initial snapshot ({@code op=r}) first, a
 * tombstone after each delete.
 */
public final class DebeziumCapture {
  static final String CLASSPATH_RESOURCE = "/dev/sluice/runners/sandbox/debezium.classpath";
  private static final Duration STARTUP = Duration.ofMinutes(2);

  private DebeziumCapture() {}

  /** What to capture and how Debezium writes it. */
  public record Settings(
      String prefix, List<String> tables, boolean schemas, String decimalHandling, int partitions) {
    public Settings {
      Objects.requireNonNull(prefix, "prefix");
      if (!prefix.matches("[a-z0-9_]+")) {
        throw new IllegalArgumentException(
            "a capture prefix is lower-case letters, digits and '_', not " + prefix);
      }
      tables = List.copyOf(tables);
    }

    /** Schemas on, decimals as bytes plus scale ({@code precise}), two partitions per topic. */
    public static Settings of(String prefix, String... tables) {
      return new Settings(prefix, List.of(tables), true, "precise", 2);
    }

    public Settings withSchemas(boolean value) {
      return new Settings(prefix, tables, value, decimalHandling, partitions);
    }

    public Settings withDecimalHandling(String value) {
      return new Settings(prefix, tables, schemas, value, partitions);
    }
  }

  /** The topic of a captured table. */
  public static String topic(String prefix, String table) {
    return prefix + ".public." + table;
  }

  /**
   * Starts capturing and waits until the connector runs (its snapshot may still be going on). The
   * replication slot and publication are named after the prefix and dropped when it stops.
   */
  public static ConnectWorker start(
      Path workDir, String bootstrapServers, Postgres postgres, Settings settings)
      throws IOException, InterruptedException {
    Map<String, String> connector = new LinkedHashMap<>();
    connector.put("name", "sluice-cdc-" + settings.prefix());
    connector.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    connector.put("tasks.max", "1");
    connector.put("database.hostname", "127.0.0.1");
    connector.put("database.port", String.valueOf(postgres.port()));
    connector.put("database.user", Postgres.USER);
    connector.put("database.password", "postgres");
    connector.put("database.dbname", Postgres.DATABASE);
    connector.put("topic.prefix", settings.prefix());
    connector.put(
        "table.include.list",
        String.join(",", settings.tables().stream().map(t -> "public." + t).toList()));
    connector.put("plugin.name", "pgoutput");
    connector.put("slot.name", "sluice_" + settings.prefix());
    connector.put("slot.drop.on.stop", "true");
    connector.put("publication.name", "sluice_" + settings.prefix());
    connector.put("publication.autocreate.mode", "filtered");
    connector.put("snapshot.mode", "initial");
    connector.put("decimal.handling.mode", settings.decimalHandling());
    connector.put("tombstones.on.delete", "true");
    connector.put("topic.creation.default.replication.factor", "1");
    connector.put("topic.creation.default.partitions", String.valueOf(settings.partitions()));
    ConnectWorker worker =
        ConnectWorker.start(
            classpath(),
            workDir.resolve("debezium-" + settings.prefix()),
            bootstrapServers,
            settings.schemas(),
            connector,
            "512m");
    try {
      worker.awaitRunning(STARTUP);
    } catch (IOException | InterruptedException | RuntimeException e) {
      worker.close();
      throw e;
    }
    return worker;
  }

  static String classpath() throws IOException {
    return LocalFiles.classpathResource(CLASSPATH_RESOURCE, "runners/debezium");
  }
}

package dev.sluice.io.lineage;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.secrets.Redaction;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;

/**
 * A dataset as OpenLineage names it (its naming conventions): {@code postgres://host:port} with
 * {@code database.schema.table}, {@code kafka://bootstrap} with the topic, {@code file} with the
 * absolute path, {@code gs://bucket} with the path in it.
 *
 * @param schema the Avro schema of its records, as JSON, or null
 * @param table the table these files are, as its catalog names it, or null
 * @param columns each column and the columns of other datasets it is computed from (OpenLineage's
 *     column lineage), or null when not known
 */
public record LineageDataset(
    String namespace,
    String name,
    @Nullable String schema,
    @Nullable TableName table,
    @Nullable Map<String, List<Field>> columns)
    implements Serializable {

  /**
   * A column of a dataset; {@code masking} describes a masking transformation (a personal-data
   * policy) between it and the column computed from it, or is null.
   */
  public record Field(String namespace, String name, String field, @Nullable String masking)
      implements Serializable {
    public Field(String namespace, String name, String field) {
      this(namespace, name, field, null);
    }
  }

  /** A dataset whose column lineage is not known. */
  public LineageDataset(
      String namespace, String name, @Nullable String schema, @Nullable TableName table) {
    this(namespace, name, schema, table, null);
  }

  /** The same dataset, with the columns each of its columns is computed from. */
  public LineageDataset withColumnLineage(Map<String, List<Field>> columns) {
    return new LineageDataset(namespace, name, schema, table, new LinkedHashMap<>(columns));
  }

  /** A table as its catalog names it: the catalog, and {@code namespace.table}. */
  public record TableName(String namespace, String name) implements Serializable {}

  /** A dataset that is no table of a catalog. */
  public LineageDataset(String namespace, String name, @Nullable String schema) {
    this(namespace, name, schema, null);
  }

  /**
   * An Iceberg table: its location (as files are named: {@code file} and the path, {@code
   * gs://bucket} and the path in it), with the table as the catalog names it ({@code catalog} as
   * given, credentials removed, and {@code namespace.table}) as a symlink.
   */
  public static LineageDataset iceberg(
      String location, String catalog, String table, @Nullable String schema) {
    LineageDataset files = files(location, schema);
    return new LineageDataset(
        files.namespace(), files.name(), schema, new TableName(Redaction.url(catalog), table));
  }

  /** A table of a PostgreSQL database: {@code postgres://host:port}, {@code db.schema.table}. */
  public static LineageDataset postgres(
      JdbcConnection connection, String table, @Nullable String schema) {
    String url = connection.safeUrl().replaceFirst("^jdbc:", "");
    // Several hosts (host1:5432,host2:5432/db) are no URI: name the dataset after the first.
    URI uri = URI.create(url.replaceFirst("^(postgresql://[^,/]+),[^/]*", "$1"));
    String database = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    String qualified = table.contains(".") ? table : "public." + table;
    return new LineageDataset(
        "postgres://" + uri.getHost() + ":" + (uri.getPort() < 0 ? 5432 : uri.getPort()),
        database + "." + qualified,
        schema);
  }

  /** A Kafka topic: {@code kafka://<first bootstrap server>}, the topic. */
  public static LineageDataset kafka(
      String bootstrapServers, String topic, @Nullable String schema) {
    String first = Redaction.address(bootstrapServers.split(",")[0].strip());
    return new LineageDataset("kafka://" + first, topic, schema);
  }

  /** Files: {@code gs://bucket} and the path in it, or {@code file} and the absolute path. */
  public static LineageDataset files(String location, @Nullable String schema) {
    String plain = location.replaceFirst("^file:", "");
    int scheme = plain.indexOf("://");
    if (scheme > 0) {
      String rest = plain.substring(scheme + 3);
      int slash = rest.indexOf('/');
      String bucket = slash < 0 ? rest : rest.substring(0, slash);
      return new LineageDataset(
          plain.substring(0, scheme) + "://" + bucket,
          slash < 0 ? "/" : rest.substring(slash),
          schema);
    }
    return new LineageDataset(
        "file", Path.of(plain).toAbsolutePath().normalize().toString(), schema);
  }
}

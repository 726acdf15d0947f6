package dev.sluice.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.avro.Schema;

/**
 * Every released version of a dataset's schema, kept as {@code history/<dataset>/v<n>.avsc} on the
 * classpath (in {@code schemas/src/main/resources/dev/sluice/schemas/history}). Versions are never
 * edited once released; a change is a new version, checked by {@link SchemaCompatibilityCheck}.
 */
public final class SchemaHistory {
  private static final String ROOT = "/dev/sluice/schemas/history/";

  private final String dataset;
  private final SortedMap<Integer, Schema> versions;

  private SchemaHistory(String dataset, SortedMap<Integer, Schema> versions) {
    this.dataset = dataset;
    this.versions = Collections.unmodifiableSortedMap(versions);
  }

  /** The history of a dataset directory, e.g. {@code order}: v1, v2, ... until one is missing. */
  public static SchemaHistory of(String dataset) {
    SortedMap<Integer, Schema> versions = new TreeMap<>();
    for (int v = 1; ; v++) {
      try (InputStream in =
          SchemaHistory.class.getResourceAsStream(ROOT + dataset + "/v" + v + ".avsc")) {
        if (in == null) {
          break;
        }
        Schema schema = new Schema.Parser().parse(in);
        int declared = Schemas.version(schema);
        if (declared != v) {
          throw new IllegalStateException(
              "history/" + dataset + "/v" + v + ".avsc declares sluice.version " + declared);
        }
        versions.put(v, schema);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (versions.isEmpty()) {
      throw new IllegalArgumentException("No released versions of schema '" + dataset + "'");
    }
    return new SchemaHistory(dataset, versions);
  }

  public String dataset() {
    return dataset;
  }

  public SortedMap<Integer, Schema> versions() {
    return versions;
  }

  public Schema latest() {
    return versions.get(versions.lastKey());
  }

  /** A released version, failing with the versions known when it does not exist. */
  public Schema version(int version) {
    Schema schema = versions.get(version);
    if (schema == null) {
      throw new IllegalArgumentException(
          "Schema " + dataset + " has no version " + version + "; released: " + versions.keySet());
    }
    return schema;
  }
}

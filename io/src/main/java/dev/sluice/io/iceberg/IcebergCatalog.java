package dev.sluice.io.iceberg;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.secrets.Redaction;
import dev.sluice.io.secrets.Secrets;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.RESTCatalog;

/**
 * Where Iceberg tables are registered, as {@code --catalog} names it: {@code
 * jdbc:postgresql://host/db} (Iceberg's {@code JdbcCatalog} on PostgreSQL, for production), {@code
 * jdbc:sqlite:<file>} (the same catalog in a file, for a laptop) or {@code rest:http(s)://...} (an
 * Iceberg REST catalog: Polaris, Nessie, Glue, Unity). A plain value: the password is a reference
 * ({@code env:}/{@code file:}), resolved where the catalog is opened, and never printed.
 *
 * @param uri the catalog as given (after {@code rest:} for a REST catalog)
 * @param warehouse where new tables' files go ({@code /data/warehouse}, {@code gs://bucket/path}),
 *     or null to leave it to a REST catalog
 * @param user the catalog database's user, or null
 * @param passwordReference its password, {@code env:NAME} or {@code file:PATH}, or null
 */
public record IcebergCatalog(
    String uri,
    @Nullable String warehouse,
    @Nullable String user,
    @Nullable String passwordReference)
    implements Serializable {
  /** The catalog's name in Iceberg (table names in the JDBC catalog's tables are scoped by it). */
  public static final String NAME = "sluice";

  public IcebergCatalog {
    if (uri == null
        || !(uri.startsWith("jdbc:postgresql:")
            || uri.startsWith("jdbc:sqlite:")
            || uri.startsWith("rest:http://")
            || uri.startsWith("rest:https://"))) {
      throw new IllegalArgumentException(
          "--catalog must be jdbc:postgresql://host/db, jdbc:sqlite:<file> or"
              + " rest:http(s)://host/..., but was '"
              + Redaction.url(uri)
              + "'");
    }
    if (uri.startsWith("jdbc:")) {
      JdbcConnection.checkNoCredentials("catalog", uri, "catalogPassword");
    }
    if (!uri.startsWith("rest:") && (warehouse == null || warehouse.isBlank())) {
      throw new IllegalArgumentException(
          "--warehouse=<dir|gs://...> is needed with --catalog=" + Redaction.url(uri));
    }
    if (passwordReference != null) {
      Secrets.checkReference("catalogPassword", passwordReference);
    }
  }

  /** Whether the catalog is a REST catalog. */
  public boolean rest() {
    return uri.startsWith("rest:");
  }

  /** The catalog, opened: the caller closes it. */
  public Catalog open() {
    Map<String, String> properties = new HashMap<>();
    if (warehouse != null) {
      properties.put(CatalogProperties.WAREHOUSE_LOCATION, warehouse);
    }
    String password =
        passwordReference == null ? null : Secrets.resolve("catalogPassword", passwordReference);
    if (rest()) {
      properties.put(CatalogProperties.URI, uri.substring("rest:".length()));
      if (user != null && password != null) {
        properties.put("credential", user + ":" + password);
      } else if (password != null) {
        properties.put("token", password);
      }
      RESTCatalog catalog = new RESTCatalog();
      catalog.setConf(new org.apache.hadoop.conf.Configuration());
      catalog.initialize(NAME, properties);
      return catalog;
    }
    properties.put(CatalogProperties.URI, uri);
    if (uri.startsWith("jdbc:sqlite:")) {
      // SQLite makes its file, not the folder it goes in.
      Path file = Path.of(uri.substring("jdbc:sqlite:".length()));
      try {
        if (file.toAbsolutePath().getParent() != null) {
          Files.createDirectories(file.toAbsolutePath().getParent());
        }
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "--catalog="
                + uri
                + ": cannot create the folder of the catalog file: "
                + e.getMessage(),
            e);
      }
    }
    if (uri.startsWith("jdbc:sqlite:")) {
      // Many connections of one run (each writer's, a streaming run's commits, readers): readers
      // do not block the writer (write-ahead log), and a writer waits for another rather than
      // failing at once with SQLITE_BUSY.
      properties.put(JdbcCatalog.PROPERTY_PREFIX + "journal_mode", "WAL");
      properties.put(JdbcCatalog.PROPERTY_PREFIX + "busy_timeout", "60000");
    }
    // The driver, registered from this class loader: on a Flink session cluster each job has a
    // class loader of its own, and DriverManager hands a connection only to the class loader that
    // registered the driver (it registers what it finds once, for the first job).
    String driver = uri.startsWith("jdbc:sqlite:") ? "org.sqlite.JDBC" : "org.postgresql.Driver";
    try {
      Class.forName(driver, true, IcebergCatalog.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("the JDBC driver " + driver + " is not on the classpath", e);
    }
    // Files by their location's scheme: the local file system or HDFS through Hadoop, gs://
    // through Iceberg's GCSFileIO.
    properties.put(CatalogProperties.FILE_IO_IMPL, "org.apache.iceberg.io.ResolvingFileIO");
    // The catalog's current layout (it holds views too); an older one is migrated.
    properties.put(JdbcCatalog.PROPERTY_PREFIX + "schema-version", "V1");
    if (user != null) {
      properties.put(JdbcCatalog.PROPERTY_PREFIX + "user", user);
    }
    if (password != null) {
      properties.put(JdbcCatalog.PROPERTY_PREFIX + "password", password);
    }
    JdbcCatalog catalog = new JdbcCatalog();
    catalog.setConf(new org.apache.hadoop.conf.Configuration());
    catalog.initialize(NAME, properties);
    return catalog;
  }

  /** Work done with an open catalog. */
  @FunctionalInterface
  public interface Work<T> {
    T apply(Catalog catalog) throws IOException;
  }

  /**
   * Opens the catalog, does {@code work} with it and closes it; a failure to close is attached to
   * the work's own failure, never put in its place.
   */
  public <T> T using(Work<T> work) throws IOException {
    Catalog catalog = open();
    Throwable failed = null;
    try {
      return work.apply(catalog);
    } catch (IOException | RuntimeException e) {
      failed = e;
      throw e;
    } finally {
      try {
        ((AutoCloseable) catalog).close();
      } catch (Exception e) {
        if (failed != null) {
          failed.addSuppressed(e);
        } else {
          throw new IOException("closing the catalog " + this + " failed", e);
        }
      }
    }
  }

  /** One lock per embedded SQLite catalog file: its commits in this JVM take turns. */
  private static final java.util.concurrent.ConcurrentHashMap<String, Object> COMMITS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * As {@link #using}, for work that commits. An embedded SQLite catalog takes one commit at a time
   * per JVM (in write-ahead-log mode, a commit whose read went stale while another connection wrote
   * fails at once with {@code SQLITE_BUSY_SNAPSHOT} rather than waiting), and a commit that still
   * meets a busy database (another process's) is made again on a fresh connection, after a pause, a
   * few times: the work must be safe to repeat (a commit id, a check of what is there).
   */
  public <T> T committing(Work<T> work) throws IOException {
    if (!uri.startsWith("jdbc:sqlite:")) {
      return using(work);
    }
    synchronized (COMMITS.computeIfAbsent(uri, k -> new Object())) {
      for (int attempt = 1; ; attempt++) {
        try {
          return using(work);
        } catch (IOException | RuntimeException e) {
          if (attempt >= 8 || !busy(e)) {
            throw e;
          }
          try {
            Thread.sleep(Math.min(2000L, 50L << attempt));
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw e;
          }
        }
      }
    }
  }

  /** Whether {@code e} is SQLite's busy database, which a later attempt may not meet. */
  static boolean busy(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLException
          && String.valueOf(t.getMessage()).contains("SQLITE_BUSY")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Closes a catalog a worker opened in its set-up, for {@code table}: nothing of the run depends
   * on it any more, so a failure to close is logged, not thrown.
   */
  public static void closeQuietly(@javax.annotation.Nullable Catalog opened, String table) {
    if (opened instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        org.slf4j.LoggerFactory.getLogger(IcebergCatalog.class)
            .warn("closing the catalog of {} failed: {}", table, e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return Redaction.url(uri);
  }
}

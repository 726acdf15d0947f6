package dev.sluice.runners.sandbox;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import javax.annotation.Nullable;

/**
 * A real PostgreSQL server from embedded binaries, on a free loopback port, with its data under a
 * directory of the caller's. Connect as user {@code postgres} (trust authentication, no password).
 */
public final class Postgres implements AutoCloseable {
  public static final String USER = "postgres";
  public static final String DATABASE = "postgres";

  private EmbeddedPostgres server;
  private final Path workDir;
  private final boolean keepData;
  private @Nullable Certificates certificates;

  private Postgres(EmbeddedPostgres server, Path workDir, boolean keepData) {
    this.server = server;
    this.workDir = workDir;
    this.keepData = keepData;
  }

  public static Postgres start(Path workDir) throws IOException {
    return new Postgres(start(workDir, Ports.free(), false, null), workDir, false);
  }

  /**
   * A server that also accepts TLS, with the server certificate {@code certs} signed by their CA
   * ({@code sandbox --secure}): clients connect with {@code sslmode=verify-full&sslrootcert=<CA>}
   * ({@link #tlsUrl}).
   */
  public static Postgres startWithTls(Path workDir, Certificates certs) throws IOException {
    Postgres server = new Postgres(start(workDir, Ports.free(), false, certs), workDir, false);
    server.certificates = certs;
    return server;
  }

  /**
   * A server whose data outlives a stop, so that {@link #restart} brings the same database back on
   * the same port (fault tests: the database goes away during a run and comes back).
   */
  public static Postgres startRestartable(Path workDir) throws IOException {
    return new Postgres(start(workDir, Ports.free(), true, null), workDir, true);
  }

  private static EmbeddedPostgres start(
      Path workDir, int port, boolean keepData, @Nullable Certificates certs) throws IOException {
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setOverrideWorkingDirectory(workDir.resolve("pg-work").toFile())
            .setDataDirectory(workDir.resolve("pg-data"))
            .setCleanDataDirectory(!keepData)
            .setPort(port)
            // Logical decoding, for Debezium's change capture (sandbox --cdc): cheap when unused.
            .setServerConfig("wal_level", "logical")
            .setServerConfig("max_wal_senders", "10")
            .setServerConfig("max_replication_slots", "10");
    if (certs != null) {
      builder
          .setServerConfig("ssl", "on")
          .setServerConfig("ssl_cert_file", certs.serverPem().toString())
          .setServerConfig("ssl_key_file", certs.serverKey().toString());
    }
    return builder.start();
  }

  /** Stops the server (connections are cut), waits {@code down}, and starts it again. */
  public synchronized void restart(Duration down) throws IOException, InterruptedException {
    if (!keepData) {
      throw new IllegalStateException("only a server made by startRestartable can restart");
    }
    int port = server.getPort();
    server.close();
    Thread.sleep(down.toMillis());
    server = start(workDir, port, true, null);
  }

  public int port() {
    return server.getPort();
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + port() + "/" + DATABASE;
  }

  /**
   * The URL of a TLS connection that checks the server's certificate against the sandbox's CA and
   * its name against the host ({@code sslmode=verify-full}); only for a server made by {@link
   * #startWithTls}.
   */
  public String tlsUrl() {
    if (certificates == null) {
      throw new IllegalStateException("this server was not started with TLS (sandbox --secure)");
    }
    return jdbcUrl() + "?sslmode=verify-full&sslrootcert=" + certificates.caPem();
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), USER, "");
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}

package dev.sluice.runners.sandbox;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * A real PostgreSQL server from embedded binaries, on a free loopback port, with its data under a
 * directory of the caller's. Connect as user {@code postgres} (trust authentication, no password).
 */
public final class Postgres implements AutoCloseable {
  public static final String USER = "postgres";
  public static final String DATABASE = "postgres";

  private final EmbeddedPostgres server;

  private Postgres(EmbeddedPostgres server) {
    this.server = server;
  }

  public static Postgres start(Path workDir) throws IOException {
    EmbeddedPostgres server =
        EmbeddedPostgres.builder()
            .setOverrideWorkingDirectory(workDir.resolve("pg-work").toFile())
            .setDataDirectory(workDir.resolve("pg-data"))
            .setCleanDataDirectory(true)
            .setPort(Ports.free())
            .start();
    return new Postgres(server);
  }

  public int port() {
    return server.getPort();
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + port() + "/" + DATABASE;
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), USER, "");
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}

package dev.sluice.runners.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The local sandbox: a real PostgreSQL and a real Kafka broker on free loopback ports, for the demo
 * and the end-to-end tests. Closing it stops both; a JVM shutdown hook does the same on Ctrl-C.
 */
public final class Sandbox implements AutoCloseable {
  private final Path workDir;
  private final Postgres postgres;
  private final KafkaBroker kafka;
  private final Thread shutdownHook;

  private Sandbox(Path workDir, Postgres postgres, KafkaBroker kafka) {
    this.workDir = workDir;
    this.postgres = postgres;
    this.kafka = kafka;
    this.shutdownHook = new Thread(this::stopQuietly, "sluice-sandbox-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Starts PostgreSQL and Kafka, with their files under {@code workDir}. */
  public static Sandbox start(Path workDir) throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    Postgres postgres = Postgres.start(workDir);
    try {
      return new Sandbox(workDir, postgres, KafkaBroker.start(workDir));
    } catch (IOException | InterruptedException | RuntimeException e) {
      postgres.close();
      throw e;
    }
  }

  public Postgres postgres() {
    return postgres;
  }

  public KafkaBroker kafka() {
    return kafka;
  }

  public Path workDir() {
    return workDir;
  }

  /** Connection details, one per line, for people and scripts. */
  public String describe() {
    return String.join(
        "\n",
        "jdbcUrl=" + postgres.jdbcUrl(),
        "jdbcUser=" + Postgres.USER,
        "bootstrapServers=" + kafka.bootstrapServers(),
        "workDir=" + workDir,
        "");
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or has run: it stops the services itself.
      return;
    }
    stopQuietly();
  }

  private void stopQuietly() {
    kafka.close();
    try {
      postgres.close();
    } catch (IOException e) {
      System.err.println("Sandbox: PostgreSQL did not stop cleanly: " + e.getMessage());
    }
  }
}

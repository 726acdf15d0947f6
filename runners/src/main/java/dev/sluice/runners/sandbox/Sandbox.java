package dev.sluice.runners.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import javax.annotation.Nullable;

/**
 * The local sandbox: a real PostgreSQL and a real Kafka broker on free loopback ports, for the demo
 * and the end-to-end tests. Closing it stops both; a JVM shutdown hook does the same on Ctrl-C.
 */
public final class Sandbox implements AutoCloseable {
  private final Path workDir;
  private final Postgres postgres;
  private final KafkaBroker kafka;
  private final @Nullable Path kafkaProperties;
  private final Thread shutdownHook;

  private Sandbox(
      Path workDir, Postgres postgres, KafkaBroker kafka, @Nullable Path kafkaProperties) {
    this.workDir = workDir;
    this.postgres = postgres;
    this.kafka = kafka;
    this.kafkaProperties = kafkaProperties;
    this.shutdownHook = new Thread(this::stopQuietly, "sluice-sandbox-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Starts PostgreSQL and Kafka, with their files under {@code workDir}. */
  public static Sandbox start(Path workDir) throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    Postgres postgres = Postgres.start(workDir);
    try {
      return new Sandbox(workDir, postgres, KafkaBroker.start(workDir), null);
    } catch (IOException | InterruptedException | RuntimeException e) {
      postgres.close();
      throw e;
    }
  }

  /**
   * The same with encrypted, authenticated transport ({@code sandbox --secure}): a CA of the
   * sandbox's own (the JDK's keytool) signs the servers' certificates; PostgreSQL takes TLS ({@code
   * sslmode=verify-full}), and Kafka has a {@code SASL_SSL} listener with a SCRAM-SHA-512 user
   * whose generated password, with the CA, sits in {@code <workDir>/secrets} (owner-only), named by
   * the client properties file {@code <workDir>/secrets/kafka-client.properties}. Run pipelines
   * with {@code SLUICE_SECRET_DIRS=<workDir>/secrets}.
   */
  public static Sandbox startSecure(Path workDir) throws IOException, InterruptedException {
    Path secrets = Files.createDirectories(workDir.resolve("secrets"));
    Certificates certs = Certificates.in(secrets.resolve("tls"), "Sluice Sandbox CA");
    Postgres postgres = Postgres.startWithTls(workDir, certs);
    try {
      byte[] random = new byte[18];
      new SecureRandom().nextBytes(random);
      String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      String user = "sluice";
      KafkaBroker kafka = KafkaBroker.startSecure(workDir, certs, user, password);
      Path jaas =
          owned(
              secrets.resolve("kafka-jaas.conf"),
              "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                  + user
                  + "\" password=\""
                  + password
                  + "\";");
      Path properties =
          owned(
              secrets.resolve("kafka-client.properties"),
              String.join(
                  "\n",
                  "security.protocol=SASL_SSL",
                  "sasl.mechanism=SCRAM-SHA-512",
                  "sasl.jaas.config=file:" + jaas,
                  "ssl.truststore.location=" + certs.trustStore(),
                  "ssl.truststore.type=PKCS12",
                  "ssl.truststore.password=file:" + certs.dir().resolve("store.password"),
                  ""));
      return new Sandbox(workDir, postgres, kafka, properties);
    } catch (IOException | InterruptedException | RuntimeException e) {
      postgres.close();
      throw e;
    }
  }

  private static Path owned(Path file, String content) throws IOException {
    Files.writeString(file, content);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: the directory's permissions protect it.
    }
    return file;
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

  /** The Kafka client settings of a secure sandbox ({@link #startSecure}). */
  public Path kafkaProperties() {
    if (kafkaProperties == null) {
      throw new IllegalStateException("this sandbox was not started secure (sandbox --secure)");
    }
    return kafkaProperties;
  }

  /** Connection details, one per line, for people and scripts. */
  public String describe() {
    boolean secure = kafkaProperties != null;
    StringBuilder out = new StringBuilder();
    out.append("jdbcUrl=").append(secure ? postgres.tlsUrl() : postgres.jdbcUrl()).append('\n');
    out.append("jdbcUser=").append(Postgres.USER).append('\n');
    out.append("bootstrapServers=")
        .append(secure ? kafka.secureBootstrapServers() : kafka.bootstrapServers())
        .append('\n');
    if (secure) {
      out.append("kafkaProperties=").append(kafkaProperties).append('\n');
      out.append("SLUICE_SECRET_DIRS=").append(kafkaProperties.getParent()).append('\n');
    }
    return out.append("workDir=").append(workDir).append('\n').toString();
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

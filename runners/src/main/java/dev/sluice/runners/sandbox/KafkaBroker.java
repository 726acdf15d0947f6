package dev.sluice.runners.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.annotation.Nullable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker (KRaft, combined broker and controller) in its own JVM, on two free loopback
 * ports. Its classpath comes from the {@code sluice-kafka-broker} module, so Kafka's Scala and
 * Jackson never share a classpath with Beam. Stopped by {@link #close()} (SIGTERM, then kill).
 */
public final class KafkaBroker implements AutoCloseable {
  static final String CLASSPATH_RESOURCE = "/dev/sluice/runners/sandbox/kafka-broker.classpath";
  private static final Duration STARTUP = Duration.ofSeconds(60);

  private Process process;
  private final String bootstrapServers;
  private @Nullable String secureBootstrapServers;
  private final Path logFile;
  private final ProcessBuilder command;

  private KafkaBroker(
      Process process, String bootstrapServers, Path logFile, ProcessBuilder command) {
    this.process = process;
    this.bootstrapServers = bootstrapServers;
    this.logFile = logFile;
    this.command = command;
  }

  /**
   * Stops the broker (SIGTERM), waits {@code down}, and starts it again with the same ports and log
   * directory: its topics and committed offsets are still there (fault tests).
   */
  public synchronized void restart(Duration down) throws IOException, InterruptedException {
    close();
    Thread.sleep(down.toMillis());
    process = command.start();
    awaitReady();
  }

  public static KafkaBroker start(Path workDir) throws IOException, InterruptedException {
    return start(workDir, null);
  }

  /**
   * A broker that also listens for clients on a {@code SASL_SSL} listener ({@code sandbox
   * --secure}): TLS with the server certificate {@code certs} signed by their CA, and SCRAM-SHA-512
   * logins, the user {@code user} with {@code password} made before it is returned. The plaintext
   * listener stays for the controller and the sandbox's own administration, on loopback only.
   */
  public static KafkaBroker startSecure(
      Path workDir, Certificates certs, String user, String password)
      throws IOException, InterruptedException {
    KafkaBroker broker = start(workDir, certs);
    try (Admin admin = broker.admin()) {
      admin
          .alterUserScramCredentials(
              List.of(
                  new UserScramCredentialUpsertion(
                      user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      broker.close();
      throw new IOException("cannot create the SCRAM user " + user + ": " + e.getMessage(), e);
    }
    return broker;
  }

  private static KafkaBroker start(Path workDir, @Nullable Certificates certs)
      throws IOException, InterruptedException {
    Path dir = Files.createDirectories(workDir.resolve("kafka"));
    // The sandbox is ephemeral: a previous broker's log directory (another cluster id) would stop
    // the storage format.
    LocalFiles.deleteTree(dir.resolve("data"));
    String classpath = brokerClasspath();
    int brokerPort = Ports.free();
    int controllerPort = Ports.free();
    int securePort = certs == null ? 0 : Ports.free();
    Path config = dir.resolve("server.properties");
    Files.writeString(config, serverProperties(dir, brokerPort, controllerPort, certs, securePort));
    Path log4j = LocalFiles.warningsOnlyLog4j(dir.resolve("log4j.properties"));
    Path logFile = dir.resolve("broker.log");

    Process format =
        java(
                classpath,
                log4j,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                Uuid.randomUuid().toString(),
                "-c",
                config.toString())
            .redirectOutput(dir.resolve("format.log").toFile())
            .redirectErrorStream(true)
            .start();
    if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
      format.destroyForcibly();
      throw new IOException(
          "Kafka storage format failed; see "
              + dir.resolve("format.log")
              + ":\n"
              + tail(dir.resolve("format.log")));
    }
    ProcessBuilder command =
        java(classpath, log4j, "kafka.Kafka", config.toString())
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .redirectErrorStream(true);
    Process broker = command.start();
    KafkaBroker started = new KafkaBroker(broker, "127.0.0.1:" + brokerPort, logFile, command);
    if (certs != null) {
      // The name the server's certificate carries, checked by the clients (hostname verification).
      started.secureBootstrapServers = "localhost:" + securePort;
    }
    try {
      started.awaitReady();
    } catch (IOException | RuntimeException | InterruptedException e) {
      started.close();
      throw e;
    }
    return started;
  }

  private static ProcessBuilder java(String classpath, Path log4j, String... mainAndArgs) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xms128m");
    command.add("-Xmx512m");
    command.add("-Dlog4j.configuration=" + log4j.toUri());
    command.add("-cp");
    command.add(classpath);
    command.addAll(List.of(mainAndArgs));
    return new ProcessBuilder(command);
  }

  private static String serverProperties(
      Path dir, int brokerPort, int controllerPort, @Nullable Certificates certs, int securePort) {
    String secure =
        certs == null
            ? ""
            : String.join(
                "\n",
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                    + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "listener.name.sasl_ssl.ssl.keystore.location=" + certs.serverStore(),
                "listener.name.sasl_ssl.ssl.keystore.type=PKCS12",
                "listener.name.sasl_ssl.ssl.keystore.password=" + certs.storePassword(),
                "listener.name.sasl_ssl.ssl.key.password=" + certs.storePassword(),
                "");
    return String.join(
        "\n",
        "process.roles=broker,controller",
        "node.id=1",
        "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
        "listeners=PLAINTEXT://127.0.0.1:"
            + brokerPort
            + ",CONTROLLER://127.0.0.1:"
            + controllerPort
            + (certs == null ? "" : ",SASL_SSL://127.0.0.1:" + securePort),
        "advertised.listeners=PLAINTEXT://127.0.0.1:"
            + brokerPort
            + (certs == null ? "" : ",SASL_SSL://localhost:" + securePort),
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
            + (certs == null ? "" : ",SASL_SSL:SASL_SSL"),
        secure,
        "inter.broker.listener.name=PLAINTEXT",
        "log.dirs=" + dir.resolve("data"),
        "num.partitions=1",
        "auto.create.topics.enable=false",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        // Transactions whose producer is gone are aborted within a second of their timeout.
        "transaction.abort.timed.out.transaction.cleanup.interval.ms=1000",
        "group.initial.rebalance.delay.ms=0",
        "");
  }

  static String brokerClasspath() throws IOException {
    return LocalFiles.classpathResource(CLASSPATH_RESOURCE, "runners/kafka-broker");
  }

  private void awaitReady() throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(STARTUP);
    Exception last = null;
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IOException(
            "Kafka broker exited with code " + process.exitValue() + "; log:\n" + tail(logFile));
      }
      try (Admin admin = admin()) {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(250);
      }
    }
    throw new IOException(
        "Kafka broker not ready after " + STARTUP.toSeconds() + " s; log:\n" + tail(logFile), last);
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The SASL_SSL listener of a broker made by {@link #startSecure}. */
  public String secureBootstrapServers() {
    if (secureBootstrapServers == null) {
      throw new IllegalStateException("this broker was not started secure (sandbox --secure)");
    }
    return secureBootstrapServers;
  }

  public Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000));
  }

  /** Creates a topic with the given partitions (replication factor 1). */
  public void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
      awaitLeaders(admin, topic, partitions);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
  }

  /**
   * Waits until the broker leads every partition of a new topic. The controller has committed the
   * topic when {@code createTopics} returns, but the broker may not have taken the leadership yet:
   * a producer's first batch then gets NOT_LEADER_OR_FOLLOWER, and an idempotent producer's later
   * batches are refused as out of sequence until the first one expires, lost. Offsets are served by
   * the leader only, so a partition whose offsets can be listed is ready.
   */
  private static void awaitLeaders(Admin admin, String topic, int partitions) throws Exception {
    java.util.Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec>
        wanted = new java.util.HashMap<>();
    for (int p = 0; p < partitions; p++) {
      wanted.put(
          new org.apache.kafka.common.TopicPartition(topic, p),
          org.apache.kafka.clients.admin.OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        admin.listOffsets(wanted).all().get(10, TimeUnit.SECONDS);
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  /** Client properties to reach this broker. */
  public Properties clientProperties() {
    Properties properties = new Properties();
    properties.put("bootstrap.servers", bootstrapServers);
    return properties;
  }

  public boolean isRunning() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    LocalFiles.awaitExit(process);
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

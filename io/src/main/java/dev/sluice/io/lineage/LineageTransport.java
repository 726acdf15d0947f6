package dev.sluice.io.lineage;

import dev.sluice.io.kafka.KafkaClientProperties;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where OpenLineage events go, as given by {@code --lineage=}: {@code file:<dir>} (JSON lines in
 * {@code <dir>/openlineage.jsonl}), {@code http(s)://host:port/api/v1/lineage} (POSTed, retried
 * with backoff), or {@code kafka:<topic>} (keyed by run id). Sending never fails a run: an event
 * that cannot be delivered is logged as a warning and counted in {@link #missed()}.
 */
public abstract class LineageTransport implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(LineageTransport.class);
  private int missed;

  /** Parses a {@code --lineage} value, failing with a message naming what is wrong. */
  public static LineageTransport parse(
      String spec, @Nullable String kafkaBootstrap, KafkaClientProperties kafkaProperties) {
    if (spec.startsWith("file:") && spec.length() > 5) {
      return new ToFile(Path.of(spec.substring(5)));
    }
    if (spec.startsWith("http://") || spec.startsWith("https://")) {
      try {
        return new ToHttp(URI.create(spec));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--lineage=" + spec + " is no URL: " + e.getMessage());
      }
    }
    if (spec.startsWith("kafka:") && spec.length() > 6) {
      if (kafkaBootstrap == null) {
        throw new IllegalArgumentException(
            "--lineage=" + spec + " needs Kafka brokers: this pipeline has no --bootstrapServers");
      }
      return new ToKafka(spec.substring(6), kafkaBootstrap, kafkaProperties);
    }
    throw new IllegalArgumentException(
        "--lineage must be file:<dir>, http(s)://host:port/api/v1/lineage or kafka:<topic>, but"
            + " was '"
            + spec
            + "'");
  }

  /** Sends one event (its JSON); never throws. */
  public final void send(String runId, String json) {
    try {
      deliver(runId, json);
    } catch (Exception e) {
      missed++;
      LOG.warn("OpenLineage event of run {} not delivered to {}: {}", runId, this, e.toString());
    }
  }

  /** Counts an event that could not even be built (a bug, never a reason to fail the run). */
  public final void missedBuilding(String runId, String type, RuntimeException error) {
    missed++;
    LOG.warn(
        "OpenLineage {} event of run {} could not be built: {}", type, runId, error.toString());
  }

  /** Events that could not be delivered. */
  public final int missed() {
    return missed;
  }

  abstract void deliver(String runId, String json) throws Exception;

  static final class ToFile extends LineageTransport {
    private final String dir;

    ToFile(Path dir) {
      this.dir = dir.toString();
    }

    @Override
    void deliver(String runId, String json) throws IOException {
      Path directory = Files.createDirectories(Path.of(dir));
      Files.writeString(
          directory.resolve("openlineage.jsonl"),
          json + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }

    @Override
    public String toString() {
      return "file:" + dir;
    }
  }

  static final class ToHttp extends LineageTransport {
    static final int ATTEMPTS = 3;
    private final URI uri;

    ToHttp(URI uri) {
      this.uri = uri;
    }

    @Override
    void deliver(String runId, String json) throws Exception {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      HttpRequest request =
          HttpRequest.newBuilder(uri)
              .timeout(Duration.ofSeconds(10))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(json))
              .build();
      Exception last = null;
      for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          HttpResponse<String> response =
              client.send(request, HttpResponse.BodyHandlers.ofString());
          if (response.statusCode() / 100 == 2) {
            return;
          }
          last = new IOException("HTTP " + response.statusCode() + " from " + uri);
          if (response.statusCode() / 100 == 4 && response.statusCode() != 429) {
            break; // the backend refuses the event: retrying will not help
          }
        } catch (IOException e) {
          last = e;
        }
        if (attempt < ATTEMPTS) {
          Thread.sleep(200L << attempt);
        }
      }
      throw last;
    }

    @Override
    public String toString() {
      return uri.toString();
    }
  }

  static final class ToKafka extends LineageTransport {
    private final String topic;
    private final String bootstrap;
    private final KafkaClientProperties properties;

    ToKafka(String topic, String bootstrap, KafkaClientProperties properties) {
      this.topic = topic;
      this.bootstrap = bootstrap;
      this.properties = properties;
    }

    @Override
    void deliver(String runId, String json) throws Exception {
      Map<String, Object> config = new HashMap<>();
      config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
      try (Producer<String, byte[]> producer = properties.producerFactory().apply(config)) {
        producer
            .send(new ProducerRecord<>(topic, runId, json.getBytes(StandardCharsets.UTF_8)))
            .get();
      }
    }

    @Override
    public String toString() {
      return "kafka:" + topic;
    }
  }
}

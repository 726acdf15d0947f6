package dev.sluice.io.lineage;

import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.secrets.Redaction;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.annotation.Nullable;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where OpenLineage events go, as given by {@code --lineage=}: {@code file:<dir>} (JSON lines in
 * {@code <dir>/openlineage.jsonl}), {@code http(s)://host:port/api/v1/lineage} (POSTed, retried
 * with backoff), or {@code kafka:<topic>} (keyed by run id).
 *
 * <p>Sending never blocks or fails a run: {@link #send} puts the event on a bounded queue that one
 * worker thread delivers in order, each exchange with the backend bounded as a whole (connect,
 * send, headers and body) by one deadline; {@link #finish} waits at most that deadline for what is
 * still queued at the run's end. An event that cannot be delivered (in time, or at all) is logged
 * as a warning and counted in {@link #missed()}.
 */
public abstract class LineageTransport implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(LineageTransport.class);

  /** Events that may wait for delivery at once; more are counted missed, never block the run. */
  static final int QUEUE = 256;

  /** The default deadline of one exchange with the backend, and of the wait at the run's end. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);

  private final AtomicInteger missed = new AtomicInteger();
  private Duration deadline = DEFAULT_DEADLINE;
  private String what = "OpenLineage event";
  private transient BlockingQueue<String[]> queue;
  private transient Thread worker;

  /** Events queued or being delivered. */
  private final AtomicInteger pending = new AtomicInteger();

  /** Parses a {@code --lineage} value, failing with a message naming what is wrong. */
  public static LineageTransport parse(
      String spec, @Nullable String kafkaBootstrap, KafkaClientProperties kafkaProperties) {
    if (spec.startsWith("file:") && spec.length() > 5) {
      return new ToFile(Path.of(spec.substring(5)));
    }
    if (spec.startsWith("http://") || spec.startsWith("https://")) {
      return http("lineage", spec);
    }
    if (spec.startsWith("kafka:") && spec.length() > 6) {
      if (kafkaBootstrap == null) {
        throw new IllegalArgumentException(
            "--lineage="
                + Redaction.url(spec)
                + " needs Kafka brokers: this pipeline has no --bootstrapServers");
      }
      return new ToKafka(spec.substring(6), kafkaBootstrap, kafkaProperties);
    }
    throw new IllegalArgumentException(
        "--lineage must be file:<dir>, http(s)://host:port/api/v1/lineage or kafka:<topic>, but"
            + " was '"
            + Redaction.url(spec)
            + "'");
  }

  /**
   * An HTTP(S) endpoint, given by option {@code --<option>}: each event is POSTed as JSON (also the
   * way {@code --alertWebhook} reaches Alertmanager).
   */
  public static LineageTransport http(String option, String url) {
    try {
      URI uri = URI.create(url);
      if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null) {
        throw new IllegalArgumentException("not http(s)");
      }
      return new ToHttp(uri);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--" + option + "=" + Redaction.url(url) + " is no http(s) URL");
    }
  }

  /** What this transport delivers, as its warnings name it (default "OpenLineage event"). */
  public LineageTransport delivering(String what) {
    this.what = what;
    return this;
  }

  /** Bounds each exchange with the backend, and the wait for delivery at the run's end. */
  public LineageTransport withDeadline(Duration deadline) {
    if (deadline == null || deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("the lineage deadline must be positive: " + deadline);
    }
    this.deadline = deadline;
    return this;
  }

  /** The deadline of one exchange with the backend. */
  final Duration deadline() {
    return deadline;
  }

  /** Queues one event (its JSON) for delivery; never blocks, never throws. */
  public final synchronized void send(String runId, String json) {
    if (queue == null) {
      // The worker keeps its own reference: finish() may drop the field before the worker first
      // reads it (a run that fails at once), and the events queued must still go.
      BlockingQueue<String[]> events = new LinkedBlockingQueue<>(QUEUE);
      queue = events;
      worker = new Thread(() -> deliverQueued(events), "sluice-lineage");
      worker.setDaemon(true);
      worker.start();
    }
    pending.incrementAndGet();
    if (!queue.offer(new String[] {runId, json})) {
      pending.decrementAndGet();
      missed.incrementAndGet();
      LOG.warn(
          "{} of run {} not sent to {}: {} events are waiting already", what, runId, this, QUEUE);
    }
  }

  private void deliverQueued(BlockingQueue<String[]> events) {
    while (true) {
      String[] event;
      try {
        event = events.take();
      } catch (InterruptedException e) {
        return;
      }
      try {
        deliver(event[0], event[1]);
        pending.decrementAndGet();
      } catch (InterruptedException e) {
        return; // finish() gave up waiting, and counted this event missed
      } catch (Exception e) {
        missed.incrementAndGet();
        pending.decrementAndGet();
        LOG.warn("{} of run {} not delivered to {}: {}", what, event[0], this, e.toString());
      }
    }
  }

  /**
   * Waits at most the deadline for the queued events to be delivered, then stops the worker: what
   * is still queued or being delivered then is counted missed. Sending after this starts again.
   */
  public final void finish() {
    Thread running;
    synchronized (this) {
      running = worker;
      worker = null;
      queue = null;
    }
    if (running == null) {
      return;
    }
    long end = System.nanoTime() + deadline.toNanos();
    try {
      while (pending.get() > 0 && System.nanoTime() < end) {
        Thread.sleep(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    running.interrupt();
    int left = pending.getAndSet(0);
    if (left > 0) {
      missed.addAndGet(left);
      LOG.warn(
          "{} {}(s) not delivered to {} within {} s of the run's end",
          left,
          what,
          this,
          deadline.toSeconds());
    }
  }

  /** Counts an event that could not even be built (a bug, never a reason to fail the run). */
  public final void missedBuilding(String runId, String type, RuntimeException error) {
    missed.incrementAndGet();
    LOG.warn(
        "OpenLineage {} event of run {} could not be built: {}", type, runId, error.toString());
  }

  /** Events that could not be delivered. */
  public final int missed() {
    return missed.get();
  }

  /** Delivers one event within {@link #deadline()} per exchange; throws what went wrong. */
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
    private transient HttpClient client;

    ToHttp(URI uri) {
      this.uri = uri;
    }

    @Override
    void deliver(String runId, String json) throws Exception {
      if (client == null) {
        client = HttpClient.newBuilder().connectTimeout(deadline()).build();
      }
      HttpRequest request =
          HttpRequest.newBuilder(uri)
              .timeout(deadline())
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(json))
              .build();
      Exception last = null;
      for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        // The request's timeout ends at the headers: the whole exchange, body included, is bounded
        // here, and an exchange past its deadline is cancelled.
        CompletableFuture<HttpResponse<Void>> exchange =
            client.sendAsync(request, HttpResponse.BodyHandlers.discarding());
        try {
          HttpResponse<Void> response = exchange.get(deadline().toMillis(), TimeUnit.MILLISECONDS);
          if (response.statusCode() / 100 == 2) {
            return;
          }
          last = new IOException("HTTP " + response.statusCode() + " from " + this);
          if (response.statusCode() / 100 == 4 && response.statusCode() != 429) {
            break; // the backend refuses the event: retrying will not help
          }
        } catch (TimeoutException e) {
          exchange.cancel(true);
          last =
              new IOException(
                  "no complete answer from " + this + " within " + deadline().toMillis() + " ms");
        } catch (ExecutionException e) {
          last = e.getCause() instanceof Exception cause ? cause : e;
        } catch (InterruptedException e) {
          exchange.cancel(true);
          throw e;
        }
        if (attempt < ATTEMPTS) {
          Thread.sleep(200L << attempt);
        }
      }
      throw last;
    }

    @Override
    public String toString() {
      return Redaction.url(uri.toString());
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
      config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, deadline().toMillis());
      config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
      config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) deadline().toMillis());
      config.put(
          ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1, deadline().toMillis() - 1));
      try (Producer<String, byte[]> producer = properties.producerFactory().apply(config)) {
        producer
            .send(new ProducerRecord<>(topic, runId, json.getBytes(StandardCharsets.UTF_8)))
            .get(deadline().toMillis(), TimeUnit.MILLISECONDS);
      }
    }

    @Override
    public String toString() {
      return "kafka:" + topic;
    }
  }
}

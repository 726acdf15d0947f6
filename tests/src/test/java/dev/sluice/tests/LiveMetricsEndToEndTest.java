package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.kafka.KafkaOffsets;
import dev.sluice.runners.Launcher;
import dev.sluice.runners.sandbox.FlinkCluster;
import dev.sluice.runners.sandbox.Ports;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --metricsPort}: a streaming kafka-to-jdbc run serves {@code /metrics} while it runs, on
 * the Direct runner and Flink {@code [local]} (each launched as a user would, in a JVM of its own)
 * and on an attached Flink cluster run; its counters grow as records arrive. A detached job's
 * counters appear in Flink's own Prometheus reporter.
 */
@ExtendWith({SharedSandbox.class, SharedFlinkCluster.class})
class LiveMetricsEndToEndTest extends LauncherCalls {
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String P = "pipeline=\"kafka-to-jdbc\"";
  private static final String READ = "sluice_records_read_total{" + P + "}";
  private static final String WRITTEN = "sluice_records_written_total{" + P + "}";
  private static final String PARSE =
      "sluice_dead_letters_by_reason_total{" + P + ",reason=\"parse\"}";

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"DirectRunner", "FlinkRunner"})
  void servesGrowingCountersWhileAStreamingRunLasts(String runner) throws Exception {
    String topic = SharedSandbox.newTopic("live-" + runner.toLowerCase(), 2);
    String table = SharedSandbox.newTableLike("orders", "orders_live_" + runner.toLowerCase());
    int port = Ports.free();
    List<String> args =
        new ArrayList<>(
            List.of(
                KafkaToJdbcArgs.of(
                    topic,
                    table,
                    "--consumerGroup=" + topic,
                    "--deadLetter=file:" + dir.resolve("dlq"),
                    "--metricsPort=" + port,
                    "--runner=" + runner)));
    if (runner.equals("FlinkRunner")) {
      args.addAll(List.of("--flinkMaster=[local]", "--checkpointingInterval=1000"));
    }
    SharedSandbox.produce(
        topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"), json(3, 1, "3.00", "NEW"));
    SharedSandbox.produce(topic, 1, utf8("{oops"));
    // Before any run, the group has committed nothing: its lag is everything produced.
    assertThat(
        KafkaOffsets.lag(
            SharedSandbox.bootstrapServers(), KafkaClientProperties.fromFile(null), topic, topic),
        equalTo(Map.of(0, 3L, 1, 1L)));

    Process launcher = launch(args, dir.resolve("launcher.log"));
    try {
      Map<String, Double> first =
          awaitScrape(port, m -> m.getOrDefault(READ, 0.0) >= 4 && m.containsKey(PARSE), launcher);
      assertThat(first.get(PARSE), is(1.0));
      assertThat(first.get("sluice_run_state{" + P + ",state=\"RUNNING\"}"), is(1.0));
      assertThat(first.get("sluice_live_metrics_up{" + P + "}"), is(1.0));

      SharedSandbox.produce(topic, 0, json(4, 1, "4.00", "NEW"), json(5, 1, "5.00", "NEW"));
      SharedSandbox.produce(topic, 1, json(6, 1, "6.00", "NEW"));
      Map<String, Double> later =
          awaitScrape(
              port,
              m -> m.getOrDefault(READ, 0.0) >= 7 && m.getOrDefault(WRITTEN, 0.0) >= 6,
              launcher);
      assertThat(later.get(READ), greaterThan(first.get(READ)));
      assertThat(later.get(WRITTEN), greaterThanOrEqualTo(6.0));
      assertThat(later.get("sluice_run_duration_seconds{" + P + "}"), greaterThan(0.0));
      assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(6L));
      // The group's lag as Kafka has it: it falls as offsets are committed. Flink commits on each
      // completed checkpoint, so it reaches nothing; the Direct runner commits a reader's offsets
      // as it finalizes the reader's previous checkpoint, so its lag trails by a read.
      double produced = 7;
      Map<String, Double> committed =
          awaitScrape(
              port,
              m ->
                  m.containsKey(lag(topic, 0))
                      && m.containsKey(lag(topic, 1))
                      && m.get(lag(topic, 0)) + m.get(lag(topic, 1))
                          < (runner.equals("FlinkRunner") ? 1 : produced),
              launcher);
      assertThat(committed.get(lag(topic, 0)), greaterThanOrEqualTo(0.0));
    } finally {
      launcher.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void watchesAnAttachedFlinkClusterRunThroughItsRestApi() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("live-cluster", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_live_cluster");
    int port = Ports.free();
    List<String> args =
        new ArrayList<>(
            List.of(
                KafkaToJdbcArgs.of(
                    topic,
                    table,
                    "--consumerGroup=" + topic,
                    "--deadLetter=jdbc:sluice_dead_letters",
                    "--metricsPort=" + port)));
    args.addAll(List.of(SharedFlinkCluster.args()));
    List<String> before = new ArrayList<>();
    cluster.jobs().forEach(j -> before.add(j[0]));
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    SharedSandbox.produce(topic, 1, utf8("{oops"));
    AtomicReference<Integer> exit = new AtomicReference<>();
    CompletableFuture<Void> run =
        CompletableFuture.runAsync(() -> exit.set(run(args.toArray(String[]::new))));
    String job = null;
    try {
      Map<String, Double> first =
          awaitScrape(port, m -> m.getOrDefault(READ, 0.0) >= 3 && m.containsKey(PARSE), null);
      assertThat(first.get(PARSE), is(1.0));
      SharedSandbox.produce(topic, 0, json(3, 1, "3.00", "NEW"), json(4, 1, "4.00", "NEW"));
      Map<String, Double> later =
          awaitScrape(
              port, m -> m.getOrDefault(READ, 0.0) >= 5 && m.getOrDefault(WRITTEN, 0.0) >= 4, null);
      assertThat(later.get(READ), greaterThan(first.get(READ)));
      assertThat(later.get(WRITTEN), is(4.0));
    } finally {
      for (String[] j : cluster.jobs()) {
        if (!before.contains(j[0]) && j[1].equals("RUNNING")) {
          job = j[0];
          cluster.cancel(job);
        }
      }
      run.get(2, TimeUnit.MINUTES);
    }
    assertThat("a job was started and cancelled", job != null, is(true));
    assertThat(exit.get(), is(Launcher.RUN_FAILED));
    // The endpoint lasts as long as the run.
    org.junit.jupiter.api.Assertions.assertThrows(
        ConnectException.class, () -> Prometheus.scrape(port));
  }

  @Test
  void aDetachedJobsCountersAppearInFlinksPrometheusReporter() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("live-detached", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_live_detached");
    assertThat(
        run(
            KafkaToJdbcArgs.with(
                KafkaToJdbcArgs.of(
                    topic,
                    table,
                    "--deadLetter=jdbc:sluice_dead_letters",
                    "--metricsPort=" + Ports.free(),
                    "--detached"),
                SharedFlinkCluster.args())),
        is(Launcher.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("Prometheus reporter"));

    String job =
        submitDetached(
            KafkaToJdbcArgs.of(
                topic, table, "--consumerGroup=" + topic, "--deadLetter=jdbc:sluice_dead_letters"));
    try {
      SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
      SharedSandbox.produce(topic, 1, json(3, 1, "3.00", "NEW"), utf8("{oops"));
      assertThat(
          StreamingOrders.await(() -> Prometheus.flinkSum(cluster, "kafka_to_jdbc_read"), 4.0),
          is(4.0));
      assertThat(
          StreamingOrders.await(() -> Prometheus.flinkSum(cluster, "kafka_to_jdbc_written"), 3.0),
          is(3.0));
      // Each operator's counters reach the reporter on their own schedule: await this one too.
      assertThat(
          StreamingOrders.await(
              () -> Prometheus.flinkSum(cluster, "kafka_to_jdbc_dead_lettered_reason_parse"), 1.0),
          is(1.0));
    } finally {
      cluster.cancel(job);
    }
  }

  private static String lag(String topic, int partition) {
    return "sluice_kafka_consumer_lag{partition=\""
        + partition
        + "\","
        + P
        + ",topic=\""
        + topic
        + "\"}";
  }

  /** Scrapes until {@code done} holds; fails naming the last scrape (and the launcher's log). */
  private Map<String, Double> awaitScrape(
      int port, Predicate<Map<String, Double>> done, Process launcher) throws Exception {
    AtomicReference<Map<String, Double>> last = new AtomicReference<>(Map.of());
    boolean ok =
        Poll.until(
            WAIT,
            () -> {
              if (launcher != null && !launcher.isAlive()) {
                return true;
              }
              try {
                last.set(Prometheus.scrape(port));
              } catch (ConnectException e) {
                return false;
              }
              return done.test(last.get());
            });
    String log =
        launcher == null
            ? out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8)
            : Files.readString(dir.resolve("launcher.log"));
    assertThat("the launcher is still running:\n" + log, launcher == null || launcher.isAlive());
    assertThat("last scrape " + last.get() + "\n" + log, ok && done.test(last.get()), is(true));
    return last.get();
  }
}

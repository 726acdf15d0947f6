package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TaskManager of the session cluster is killed (SIGKILL) while kafka-to-jdbc streams with
 * checkpointing: the job restarts from its last checkpoint on the TaskManager left, and the table
 * converges to the newest version of every order, with each malformed record dead-lettered once.
 */
@ExtendWith({SharedSandbox.class, SharedFlinkCluster.class})
class FlinkTaskManagerFaultTest extends LauncherCalls {
  private static final int ORDERS = 200;

  @TempDir Path dir;

  @Test
  void aKilledTaskManagerIsRecoveredFromTheCheckpoint() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("fault-tm", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_fault_tm");
    String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_fault_tm");
    String job =
        submitDetached(
            KafkaToJdbcArgs.of(
                topic,
                table,
                "--consumerGroup=fault-tm",
                "--deadLetter=jdbc:" + dlq,
                "--checkpointingInterval=1000"));
    try {
      byte[][] first = new byte[ORDERS + 1][];
      for (int i = 0; i < ORDERS; i++) {
        first[i] = json(i + 1, 1, "1.00", "NEW");
      }
      first[ORDERS] = utf8("{broken");
      SharedSandbox.produce(topic, 0, first);
      String oneVersion = ORDERS + " orders, 0 at v2";
      assertThat(
          StreamingOrders.await(() -> StreamingOrders.versions(table), oneVersion),
          equalTo(oneVersion));
      assertThat(
          StreamingOrders.await(() -> cluster.completedCheckpoints(job) > 0, true), is(true));

      cluster.killTaskManagerOf(job);
      // The job goes down with the TaskManager and comes back from a completed checkpoint.
      assertThat(StreamingOrders.await(() -> cluster.restoredCheckpoint(job) > 0, true), is(true));
      byte[][] second = new byte[ORDERS + 1][];
      for (int i = 0; i < ORDERS; i++) {
        second[i] = json(i + 1, 2, "2.00", "PAID");
      }
      second[ORDERS] = utf8("{broken again");
      SharedSandbox.produce(topic, 1, second);

      String newest = ORDERS + " orders, " + ORDERS + " at v2";
      assertThat(
          StreamingOrders.await(() -> StreamingOrders.versions(table), newest), equalTo(newest));
      assertThat(
          StreamingOrders.await(
              () ->
                  SharedSandbox.text(
                      "SELECT string_agg(DISTINCT origin, ',' ORDER BY origin) FROM " + dlq),
              "kafka:" + topic + "/0@" + ORDERS + ",kafka:" + topic + "/1@" + ORDERS),
          equalTo("kafka:" + topic + "/0@" + ORDERS + ",kafka:" + topic + "/1@" + ORDERS));
    } finally {
      cluster.cancel(job);
      cluster.restartTaskManagers();
    }
  }

  /**
   * kafka-to-lake appending to an Iceberg table while events flow and a TaskManager is killed: the
   * job comes back from its last checkpoint, whose panes reach the commit step again (its input is
   * stable: panes are committed once the checkpoint holding them completed). Those panes' commits
   * had landed, and the commit-id check skips them ({@code iceberg_commits_repeated} on the
   * restored job); the table holds every event exactly once, no gap and no duplicate. Bundles are
   * small ({@code --maxBundleSize=20}), so data files reach the windows between checkpoints: a pane
   * made again after a restore would hold other files under the same commit id (without stable
   * input this test loses events). The kill comes right after a checkpoint completed and a commit
   * it released landed, so that the checkpoint restored holds panes committed already.
   */
  @Test
  void aKilledTaskManagerLeavesEachEventInTheIcebergTableOnce() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("fault-tm-lake", 2);
    String job =
        submitDetached(
            "kafka-to-lake",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=" + topic,
            "--consumerGroup=fault-tm-lake",
            "--output=iceberg:lake.fault_events",
            "--warehouse=" + dir.resolve("warehouse"),
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--commitInterval=PT0.2S",
            "--checkpointingInterval=3000",
            "--maxBundleSize=20");
    long produced;
    double skipped = 0;
    int kills = 0;
    try (Flow flow = new Flow(topic)) {
      assertThat(StreamingOrders.await(() -> lakeIds().size() > 0, true), is(true));
      assertThat(
          StreamingOrders.await(() -> cluster.completedCheckpoints(job) > 1, true), is(true));
      // Killed right after a checkpoint completed and a commit it released landed: the job
      // restores from that checkpoint, whose panes were (at least in part) committed already.
      // If a later checkpoint completes before the kill, its panes may not be committed yet:
      // the job would restore from it and repeat nothing. Then wait for the next one again.
      for (int attempt = 0; ; attempt++) {
        long checkpoint = cluster.completedCheckpoints(job);
        assertThat(
            StreamingOrders.await(() -> cluster.completedCheckpoints(job) > checkpoint, true),
            is(true));
        long completedNow = cluster.completedCheckpoints(job);
        long snapshots = snapshots();
        assertThat(StreamingOrders.await(() -> snapshots() > snapshots, true), is(true));
        if (cluster.completedCheckpoints(job) == completedNow || attempt == 5) {
          break;
        }
      }
      long restored = cluster.restoredCheckpoint(job);
      cluster.killTaskManagerOf(job);
      kills++;
      assertThat(
          StreamingOrders.await(() -> cluster.restoredCheckpoint(job) > restored, true), is(true));
      // The restored checkpoint's panes are committed once the next checkpoint completes.
      long completed = cluster.completedCheckpoints(job);
      assertThat(
          StreamingOrders.await(() -> cluster.completedCheckpoints(job) > completed + 1, true),
          is(true));
      Poll.until(
          Duration.ofSeconds(20),
          () -> Prometheus.flinkSum(cluster, "kafka_to_lake_iceberg_commits_repeated") > 0);
      skipped = Prometheus.flinkSum(cluster, "kafka_to_lake_iceberg_commits_repeated");
      produced = flow.stop();
      long all = produced;
      assertThat(StreamingOrders.await(() -> lakeIds().size(), (int) all), is((int) all));
    } finally {
      try {
        cluster.cancel(job);
      } finally {
        cluster.restartTaskManagers();
      }
    }
    assertThat("a commit skipped after " + kills + " kill(s)", skipped, greaterThan(0.0));
    List<Long> ids = lakeIds();
    assertThat(ids.size(), is((int) produced));
    assertThat(new TreeSet<>(ids).size(), is((int) produced));
    assertThat(ids.get(0), is(1L));
    assertThat(ids.get(ids.size() - 1), is(produced));
  }

  /**
   * Events produced while the test runs: orders 1, 2, 3, ... in batches of ten every 50 ms,
   * alternating the topic's two partitions, until stopped.
   */
  private static final class Flow implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final Thread thread;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicReference<Exception> failed = new AtomicReference<>();

    Flow(String topic) {
      producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", SharedSandbox.bootstrapServers(), "acks", "all"),
              new ByteArraySerializer(),
              new ByteArraySerializer());
      thread =
          new Thread(
              () -> {
                try {
                  while (running.get()) {
                    for (int i = 0; i < 10; i++) {
                      long id = sent.get() + 1;
                      producer
                          .send(
                              new ProducerRecord<>(
                                  topic, (int) (id % 2), null, json(id, 1, "1.00", "NEW")))
                          .get();
                      sent.set(id);
                    }
                    Thread.sleep(50);
                  }
                } catch (Exception e) {
                  failed.set(e);
                }
              },
              "flow-" + topic);
      thread.start();
    }

    /** Stops producing; how many events were produced (orders 1 to that number). */
    long stop() throws Exception {
      running.set(false);
      thread.join(30_000);
      if (failed.get() != null) {
        throw failed.get();
      }
      return sent.get();
    }

    @Override
    public void close() throws Exception {
      running.set(false);
      thread.join(30_000);
      producer.close();
    }
  }

  /** How many snapshots the lake table has (none while it cannot be read). */
  private long snapshots() {
    try {
      return IcebergReads.catalog(dir.resolve("warehouse"))
          .using(
              c -> {
                long n = 0;
                for (Snapshot ignored :
                    c.loadTable(TableIdentifier.parse("lake.fault_events")).snapshots()) {
                  n++;
                }
                return n;
              });
    } catch (Exception e) {
      return 0;
    }
  }

  /** The order ids of the lake table, sorted, duplicates kept (none while it cannot be read). */
  private List<Long> lakeIds() {
    return IcebergReads.rowsOrNone(
        dir.resolve("warehouse"), "lake.fault_events", r -> (Long) r.getField("order_id"));
  }
}

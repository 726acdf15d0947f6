package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
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
   * kafka-to-lake appending to an Iceberg table while a TaskManager is killed: the job comes back
   * from its checkpoint, and the table holds every event exactly once, no gap and no duplicate (a
   * commit redone after the restore carries the commit id the table has, and adds nothing).
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
            "--commitInterval=PT1S",
            "--checkpointingInterval=1000");
    try {
      byte[][] first = new byte[ORDERS][];
      for (int i = 0; i < ORDERS; i++) {
        first[i] = json(i + 1, 1, "1.00", "NEW");
      }
      SharedSandbox.produce(topic, 0, first);
      assertThat(StreamingOrders.await(() -> lakeIds().size(), ORDERS), is(ORDERS));
      assertThat(
          StreamingOrders.await(() -> cluster.completedCheckpoints(job) > 0, true), is(true));

      cluster.killTaskManagerOf(job);
      assertThat(StreamingOrders.await(() -> cluster.restoredCheckpoint(job) > 0, true), is(true));
      byte[][] second = new byte[ORDERS][];
      for (int i = 0; i < ORDERS; i++) {
        second[i] = json(ORDERS + i + 1, 1, "2.00", "NEW");
      }
      SharedSandbox.produce(topic, 1, second);

      assertThat(StreamingOrders.await(() -> lakeIds().size(), 2 * ORDERS), is(2 * ORDERS));
      List<Long> ids = lakeIds();
      assertThat(new TreeSet<>(ids).size(), is(2 * ORDERS));
      assertThat(ids.get(0), is(1L));
      assertThat(ids.get(ids.size() - 1), is((long) 2 * ORDERS));
    } finally {
      cluster.cancel(job);
      cluster.restartTaskManagers();
    }
  }

  /** The order ids of the lake table, sorted, duplicates kept (none while it cannot be read). */
  private List<Long> lakeIds() {
    return IcebergReads.rowsOrNone(
        dir.resolve("warehouse"), "lake.fault_events", r -> (Long) r.getField("order_id"));
  }
}

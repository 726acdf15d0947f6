package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A TaskManager of the session cluster is killed (SIGKILL) while kafka-to-jdbc streams with
 * checkpointing: the job restarts from its last checkpoint on the TaskManager left, and the table
 * converges to the newest version of every order, with each malformed record dead-lettered once.
 */
@ExtendWith({SharedSandbox.class, SharedFlinkCluster.class})
class FlinkTaskManagerFaultTest extends LauncherCalls {
  private static final int ORDERS = 200;

  private static String versions(String table) throws Exception {
    return SharedSandbox.text(
        "SELECT count(*) || ' orders, ' || count(*) FILTER (WHERE version = 2) || ' at v2' FROM "
            + table);
  }

  @Test
  void aKilledTaskManagerIsRecoveredFromTheCheckpoint() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("fault-tm", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_fault_tm");
    String dlq = SharedSandbox.newTableLike("sluice_dead_letters", "dlq_fault_tm");
    List<String> before = new ArrayList<>();
    cluster.jobs().forEach(j -> before.add(j[0]));
    List<String> args =
        new ArrayList<>(
            List.of(
                "kafka-to-jdbc",
                "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
                "--topic=" + topic,
                "--consumerGroup=fault-tm",
                "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--jdbcUser=postgres",
                "--table=" + table,
                "--deadLetter=jdbc:" + dlq,
                "--checkpointingInterval=1000",
                "--detached"));
    args.addAll(List.of(SharedFlinkCluster.args()));
    assertOk(run(args.toArray(String[]::new)));
    List<String[]> running =
        cluster.jobs().stream()
            .filter(j -> !before.contains(j[0]) && j[1].equals("RUNNING"))
            .toList();
    assertThat(running, hasSize(1));
    String job = running.get(0)[0];
    try {
      byte[][] first = new byte[ORDERS + 1][];
      for (int i = 0; i < ORDERS; i++) {
        first[i] = json(i + 1, 1, "1.00", "NEW");
      }
      first[ORDERS] = utf8("{broken");
      SharedSandbox.produce(topic, 0, first);
      String oneVersion = ORDERS + " orders, 0 at v2";
      assertThat(StreamingOrders.await(() -> versions(table), oneVersion), equalTo(oneVersion));
      assertThat(
          StreamingOrders.await(() -> cluster.completedCheckpoints(job) > 0, true), is(true));

      cluster.killTaskManager(0);
      byte[][] second = new byte[ORDERS + 1][];
      for (int i = 0; i < ORDERS; i++) {
        second[i] = json(i + 1, 2, "2.00", "PAID");
      }
      second[ORDERS] = utf8("{broken again");
      SharedSandbox.produce(topic, 1, second);

      String newest = ORDERS + " orders, " + ORDERS + " at v2";
      assertThat(StreamingOrders.await(() -> versions(table), newest), equalTo(newest));
      // The job went down with the TaskManager and came back from a completed checkpoint.
      assertThat(cluster.restoredCheckpoint(job), greaterThan(0L));
      assertThat(
          StreamingOrders.await(
              () ->
                  SharedSandbox.text(
                      "SELECT string_agg(DISTINCT origin, ',' ORDER BY origin) FROM " + dlq),
              "kafka:" + topic + "/0@" + ORDERS + ",kafka:" + topic + "/1@" + ORDERS),
          equalTo("kafka:" + topic + "/0@" + ORDERS + ",kafka:" + topic + "/1@" + ORDERS));
    } finally {
      cluster.cancel(job);
    }
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-to-jdbc unbounded on the real Flink session cluster with checkpointing on: submitted
 * detached with the bundle jar, the table converges to the newest version of each order while the
 * job runs, checkpoints complete, and the job is then cancelled cleanly.
 */
@ExtendWith({SharedSandbox.class, SharedFlinkCluster.class})
class FlinkStreamingTest extends LauncherCalls {
  @TempDir Path dir;

  private static <T> T await(Callable<T> value, T expected) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    T last = value.call();
    while (!expected.equals(last) && System.currentTimeMillis() < deadline) {
      Thread.sleep(500);
      last = value.call();
    }
    return last;
  }

  @Test
  void streamsIntoTheTableWithCheckpointsThenCancelsCleanly() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("flink-stream", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_flink_stream");
    List<String> before = new ArrayList<>();
    cluster.jobs().forEach(j -> before.add(j[0]));
    List<String> args =
        new ArrayList<>(
            List.of(
                "kafka-to-jdbc",
                "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
                "--topic=" + topic,
                "--consumerGroup=flink-stream",
                "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--jdbcUser=postgres",
                "--table=" + table,
                "--deadLetter=jdbc:sluice_dead_letters",
                "--flushInterval=PT1S",
                "--checkpointingInterval=1000",
                "--detached"));
    args.addAll(List.of(SharedFlinkCluster.args()));
    assertOk(run(args.toArray(String[]::new)));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("detached"));
    List<String[]> running =
        cluster.jobs().stream()
            .filter(j -> !before.contains(j[0]) && j[1].equals("RUNNING"))
            .toList();
    assertThat(running, hasSize(1));
    String job = running.get(0)[0];
    try {
      SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
      assertThat(
          await(
              () ->
                  SharedSandbox.text(
                      "SELECT string_agg(order_id || '@' || version, ',' ORDER BY order_id) FROM "
                          + table),
              "1@1,2@1"),
          equalTo("1@1,2@1"));
      // Later events: a newer version, an older one (ignored), and a malformed value.
      SharedSandbox.produce(topic, 1, json(1, 3, "3.00", "SHIPPED"), utf8("{oops"));
      SharedSandbox.produce(topic, 0, json(1, 2, "2.00", "PAID"));
      assertThat(
          await(
              () ->
                  SharedSandbox.text(
                      "SELECT string_agg(order_id || '@' || version || ':' || status, ','"
                          + " ORDER BY order_id) FROM "
                          + table),
              "1@3:SHIPPED,2@1:NEW"),
          equalTo("1@3:SHIPPED,2@1:NEW"));
      assertThat(
          await(
              () ->
                  SharedSandbox.count(
                      "SELECT count(*) FROM sluice_dead_letters WHERE origin LIKE 'kafka:"
                          + topic
                          + "%'"),
              1L),
          is(1L));
      assertThat(await(() -> cluster.completedCheckpoints(job) > 0, true), is(true));
      assertThat(cluster.completedCheckpoints(job), greaterThan(0L));
    } finally {
      cluster.cancel(job);
    }
    assertThat(
        cluster.jobs().stream().filter(j -> j[0].equals(job)).findFirst().orElseThrow()[1],
        is("CANCELED"));
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

  @Test
  void streamsIntoTheTableWithCheckpointsThenCancelsCleanly() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("flink-stream", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_flink_stream");
    String job =
        submitDetached(
            KafkaToJdbcArgs.of(
                topic,
                table,
                "--consumerGroup=flink-stream",
                "--deadLetter=jdbc:sluice_dead_letters",
                "--checkpointingInterval=1000"));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("detached"));
    try {
      StreamingOrders.produceAndAwaitNewest(topic, table);
      assertThat(
          StreamingOrders.await(
              () ->
                  SharedSandbox.count(
                      "SELECT count(*) FROM sluice_dead_letters WHERE origin LIKE 'kafka:"
                          + topic
                          + "%'"),
              1L),
          is(1L));
      assertThat(
          StreamingOrders.await(() -> cluster.completedCheckpoints(job) > 0, true), is(true));
      assertThat(cluster.completedCheckpoints(job), greaterThan(0L));
    } finally {
      cluster.cancel(job);
    }
    assertThat(
        cluster.jobs().stream().filter(j -> j[0].equals(job)).findFirst().orElseThrow()[1],
        is("CANCELED"));
  }

  /**
   * kafka-to-lake streaming on the cluster with checkpointing on: each commit interval's events
   * reach the Iceberg table once, the group's offsets follow the table commits, and the job cancels
   * cleanly.
   */
  @Test
  void streamsIntoAnIcebergTableAndCommitsOffsetsAfterTheTable() throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    String topic = SharedSandbox.newTopic("flink-lake", 2);
    String job =
        submitDetached(
            "kafka-to-lake",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=" + topic,
            "--consumerGroup=flink-lake",
            "--output=iceberg:lake.flink_events",
            "--warehouse=" + dir.resolve("warehouse"),
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--commitInterval=PT2S",
            "--checkpointingInterval=1000");
    try {
      SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
      SharedSandbox.produce(topic, 1, utf8("{oops"), json(3, 1, "3.00", "NEW"));
      assertThat(
          StreamingOrders.await(() -> ids(), List.of(1L, 2L, 3L)), equalTo(List.of(1L, 2L, 3L)));
      assertThat(
          StreamingOrders.await(
              () -> SharedSandbox.committedOffsets(topic, "flink-lake"), Map.of(0, 2L, 1, 2L)),
          equalTo(Map.of(0, 2L, 1, 2L)));
      SharedSandbox.produce(topic, 0, json(4, 1, "4.00", "NEW"));
      assertThat(
          StreamingOrders.await(() -> ids(), List.of(1L, 2L, 3L, 4L)),
          equalTo(List.of(1L, 2L, 3L, 4L)));
    } finally {
      cluster.cancel(job);
    }
  }

  /** The order ids in the table, sorted (none while it cannot be read yet). */
  private List<Long> ids() {
    return IcebergReads.rowsOrNone(
        dir.resolve("warehouse"), "lake.flink_events", r -> (Long) r.getField("order_id"));
  }
}

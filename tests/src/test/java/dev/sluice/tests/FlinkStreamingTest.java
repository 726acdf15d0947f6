package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's JVM is killed with SIGKILL in the middle of a bounded load (no shutdown hook, no
 * cleanup): the consumer group's offsets have not moved, so a rerun reads everything again and the
 * table converges.
 */
@ExtendWith(SharedSandbox.class)
class LauncherKillFaultTest extends LauncherCalls {
  @TempDir Path dir;

  @Test
  void aLoadKilledMidwayIsCompletedByARerun() throws Exception {
    String topic = DatabaseFaultTest.produceOrders("fault-sigkill");
    String table = SharedSandbox.newTableLike("orders", "orders_fault_sigkill");
    String[] args = {
      "kafka-to-jdbc",
      "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
      "--topic=" + topic,
      "--consumerGroup=" + topic,
      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
      "--jdbcUser=postgres",
      "--table=" + table,
      "--batchSize=200",
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--runReport=" + dir.resolve("report.json"),
      "--bounded"
    };
    Process launcher = launch(List.of(args), dir.resolve("launcher.log"));
    // Kill it once the load is under way: rows are arriving, or the JVM has had time to read.
    Poll.until(
        Duration.ofMinutes(2),
        () -> !launcher.isAlive() || SharedSandbox.count("SELECT count(*) FROM " + table) > 0);
    boolean killedMidway = launcher.isAlive();
    launcher.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    assertThat("the launcher was still loading when killed", killedMidway, is(true));

    assertOk(run(args));
    DatabaseFaultTest.assertExact(SharedSandbox.jdbcUrl(), table);
    assertBalanced(dir.resolve("report.json"));
  }
}

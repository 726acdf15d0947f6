package dev.sluice.runners;

import dev.sluice.runners.sandbox.ConnectWorker;
import dev.sluice.runners.sandbox.DebeziumCapture;
import dev.sluice.runners.sandbox.FlinkCluster;
import dev.sluice.runners.sandbox.Sandbox;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code sluice sandbox [--workDir=<dir>] [--flink] [--cdc] [--secure]}: starts the sandbox (with
 * {@code --secure} PostgreSQL over TLS and Kafka on SASL_SSL, see {@link Sandbox#startSecure}; with
 * {@code --flink} a Flink session cluster of a JobManager and two TaskManagers; with {@code --cdc}
 * Debezium capturing the source table {@code cdc_orders} into {@code sluice.public.cdc_orders}) and
 * keeps it up until Ctrl-C.
 */
final class SandboxCommand {
  /** The source table {@code --cdc} captures: write to it, and its changes reach the topic. */
  static final String CDC_SOURCE_TABLE =
      "CREATE TABLE IF NOT EXISTS cdc_orders (order_id bigint PRIMARY KEY, customer_id bigint,"
          + " amount numeric(12,2) NOT NULL, currency char(3) NOT NULL, status text NOT NULL,"
          + " note text, updated_at timestamptz NOT NULL DEFAULT now())";

  private SandboxCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    Flags flags = Flags.parse(args, List.of("workDir", "flink", "cdc", "secure"));
    Path workDir = Path.of(flags.get("workDir", "target/sluice-sandbox")).toAbsolutePath();
    Sandbox sandbox =
        Boolean.parseBoolean(flags.get("secure", "false"))
            ? Sandbox.startSecure(workDir)
            : Sandbox.start(workDir);
    if (Boolean.parseBoolean(flags.get("cdc", "false"))) {
      try (Connection c = sandbox.postgres().connect();
          Statement s = c.createStatement()) {
        s.execute(CDC_SOURCE_TABLE);
      }
      ConnectWorker capture =
          DebeziumCapture.start(
              workDir,
              sandbox.kafka().bootstrapServers(),
              sandbox.postgres(),
              DebeziumCapture.Settings.of("sluice", "cdc_orders"));
      Runtime.getRuntime().addShutdownHook(new Thread(capture::close, "sluice-cdc-stop"));
      out.println("cdcSourceTable=public.cdc_orders");
      out.println("cdcTopic=" + DebeziumCapture.topic("sluice", "cdc_orders"));
    }
    if (Boolean.parseBoolean(flags.get("flink", "false"))) {
      FlinkCluster flink = FlinkCluster.start(workDir, 2, 2);
      Runtime.getRuntime().addShutdownHook(new Thread(flink::close, "sluice-flink-stop"));
      out.println("flinkMaster=" + flink.master());
    }
    out.println("Sandbox is up. Ctrl-C stops it.");
    out.print(sandbox.describe());
    out.flush();
    CountDownLatch forever = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
    forever.await();
    return Exit.OK;
  }
}

package dev.sluice.runners;

import dev.sluice.runners.sandbox.FlinkCluster;
import dev.sluice.runners.sandbox.Sandbox;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code sluice sandbox [--workDir=<dir>] [--flink]}: starts the sandbox (and with {@code --flink}
 * a Flink session cluster of a JobManager and two TaskManagers) and keeps it up until Ctrl-C.
 */
final class SandboxCommand {
  private SandboxCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    Flags flags = Flags.parse(args, List.of("workDir", "flink"));
    Path workDir = Path.of(flags.get("workDir", "target/sluice-sandbox")).toAbsolutePath();
    Sandbox sandbox = Sandbox.start(workDir);
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
    return Launcher.OK;
  }
}

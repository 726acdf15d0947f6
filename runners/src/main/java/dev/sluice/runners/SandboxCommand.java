package dev.sluice.runners;

import dev.sluice.runners.sandbox.Sandbox;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** {@code sluice sandbox [--workDir=<dir>]}: starts the sandbox and keeps it up until Ctrl-C. */
final class SandboxCommand {
  private SandboxCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    Path workDir =
        Path.of(Flags.parse(args, List.of("workDir")).get("workDir", "target/sluice-sandbox"))
            .toAbsolutePath();
    Sandbox sandbox = Sandbox.start(workDir);
    out.println("Sandbox is up. Ctrl-C stops it.");
    out.print(sandbox.describe());
    out.flush();
    CountDownLatch forever = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
    forever.await();
    return Launcher.OK;
  }
}

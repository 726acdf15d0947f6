package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.Launcher;
import dev.sluice.runners.sandbox.FlinkCluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Base of tests that drive the launcher as a user would, capturing what it prints. */
abstract class LauncherCalls {
  protected final ByteArrayOutputStream out = new ByteArrayOutputStream();
  protected final ByteArrayOutputStream err = new ByteArrayOutputStream();

  /** Runs the launcher with {@code args}; returns its exit code. */
  protected int run(String... args) {
    return new Launcher(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8))
        .execute(args);
  }

  /** Asserts the run report's accounting: read = written + dead-lettered + filtered. */
  protected static void assertBalanced(Path report) throws IOException {
    com.fasterxml.jackson.databind.JsonNode root =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.toFile());
    com.fasterxml.jackson.databind.JsonNode c = root.get("counters");
    assertThat(
        report + " " + c,
        c.get("read").asLong(),
        is(
            c.get("written").asLong()
                + c.get("dead_lettered").asLong()
                + c.get("filtered").asLong()));
    assertThat(root.get("accounting").get("balanced").asBoolean(), is(true));
  }

  /** Asserts success, showing what the launcher printed on error otherwise. */
  protected void assertOk(int exitCode) {
    assertThat(err.toString(StandardCharsets.UTF_8), exitCode, is(Launcher.OK));
  }

  /**
   * Submits a run to the shared Flink cluster, detached, and returns the id of the one job it
   * started there (running).
   */
  protected String submitDetached(String... args) throws Exception {
    FlinkCluster cluster = SharedFlinkCluster.get();
    List<String> before = new ArrayList<>();
    cluster.jobs().forEach(j -> before.add(j[0]));
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.add("--detached");
    all.addAll(List.of(SharedFlinkCluster.args()));
    assertOk(run(all.toArray(String[]::new)));
    List<String[]> running =
        cluster.jobs().stream()
            .filter(j -> !before.contains(j[0]) && j[1].equals("RUNNING"))
            .toList();
    assertThat(running.size() + " new running jobs", running.size(), is(1));
    return running.get(0)[0];
  }

  /**
   * Starts the launcher with {@code args} in a JVM of its own, as a user would; output to {@code
   * log}.
   */
  protected static Process launch(List<String> args, Path log) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.sluice.runners.Sluice");
    command.addAll(args);
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }
}

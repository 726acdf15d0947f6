package dev.sluice.runners.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** File chores of the local services and tools. */
public final class LocalFiles {
  private LocalFiles() {}

  /** Deletes a directory and everything under it; nothing when it does not exist. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * Writes a log4j 1 configuration that prints warnings and errors to standard output, for the JVMs
   * of their own the sandbox and the benchmark start (the broker, the Connect peer).
   */
  public static Path warningsOnlyLog4j(Path file) throws IOException {
    Files.writeString(
        file,
        String.join(
            "\n",
            "log4j.rootLogger=WARN, stdout",
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
            ""));
    return file;
  }

  /**
   * A classpath written to a resource by one of the {@code runners/*} classpath modules (the
   * broker's, Flink's, the benchmark peer's), for a JVM of its own; fails naming the module to
   * build.
   */
  public static String classpathResource(String resource, String module) throws IOException {
    try (InputStream in = LocalFiles.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException(
            "The classpath resource "
                + resource
                + " is missing: build the "
                + module
                + " module first (mvn compile)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
  }

  /**
   * Waits for a process that was asked to stop: 20 s, then it is killed (and waited for 10 s more).
   * An interrupt kills it at once and is kept.
   */
  public static void awaitExit(Process process) {
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}

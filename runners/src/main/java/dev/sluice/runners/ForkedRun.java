package dev.sluice.runners;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Runs the launcher again in a JVM of its own, with the same classpath. Flink's local cluster loads
 * the job's classes through the JVM's application class loader, which does not see the classes of
 * an embedded launch such as {@code mvn exec:java} (a class realm of Maven's). Plain {@code java
 * -cp} launches and tests run in place.
 */
public final class ForkedRun {
  static final String FORKED = "sluice.forked";

  private ForkedRun() {}

  /** Whether these arguments need a JVM of their own here. */
  static boolean needed(String[] args) {
    boolean flink =
        Arrays.stream(args)
            .anyMatch(a -> a.toLowerCase(Locale.ROOT).matches("--runner=(flinkrunner|flink)"));
    ClassLoader loader = Launcher.class.getClassLoader();
    return flink
        && !Boolean.getBoolean(FORKED)
        && loader != ClassLoader.getSystemClassLoader()
        && loader instanceof URLClassLoader;
  }

  /** Runs {@code args} in a child JVM, copying its output; returns its exit code. */
  static int run(String[] args, PrintStream out, PrintStream err)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-D" + FORKED + "=true");
    command.add("-cp");
    command.add(classpath());
    command.add(Sluice.class.getName());
    command.addAll(Arrays.asList(args));
    Process process = new ProcessBuilder(command).start();
    Thread stdout = pump(process.getInputStream(), out);
    Thread stderr = pump(process.getErrorStream(), err);
    int code = process.waitFor();
    stdout.join();
    stderr.join();
    return code;
  }

  /**
   * The launcher's classpath, for a JVM of its own: the entries of Maven's class realm under {@code
   * mvn exec:java}, else the JVM's own.
   */
  public static String classpath() {
    ClassLoader loader = Launcher.class.getClassLoader();
    if (loader instanceof URLClassLoader urls && loader != ClassLoader.getSystemClassLoader()) {
      List<String> entries = new ArrayList<>();
      for (URL url : urls.getURLs()) {
        try {
          entries.add(Path.of(url.toURI()).toString());
        } catch (URISyntaxException e) {
          throw new IllegalStateException("Unusable classpath entry " + url, e);
        }
      }
      return String.join(File.pathSeparator, entries);
    }
    return System.getProperty("java.class.path");
  }

  private static Thread pump(InputStream from, OutputStream to) {
    Thread thread =
        new Thread(
            () -> {
              try {
                from.transferTo(to);
                to.flush();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            "sluice-fork-output");
    thread.start();
    return thread;
  }
}

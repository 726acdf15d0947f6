package dev.sluice.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher loaded by a class loader of its own (as {@code mvn exec:java} loads it) runs a
 * FlinkRunner [local] pipeline by re-launching itself in a JVM of its own.
 */
class ForkedRunTest {
  @Test
  void flinkFromAnEmbeddedClassLoaderRunsInAForkedJvm(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        dir.resolve("in/a.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n"
            + "1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,\n"
            + "2,x,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,\n");
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      urls.add(Path.of(entry).toUri().toURL());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (URLClassLoader embedded =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      Class<?> launcher = embedded.loadClass(Launcher.class.getName());
      Object instance =
          launcher
              .getConstructor(PrintStream.class, PrintStream.class)
              .newInstance(
                  new PrintStream(out, true, StandardCharsets.UTF_8),
                  new PrintStream(err, true, StandardCharsets.UTF_8));
      int code =
          (int)
              launcher
                  .getMethod("execute", String[].class)
                  .invoke(
                      instance,
                      (Object)
                          new String[] {
                            "files-to-lake",
                            "--input=" + dir.resolve("in") + "/*.csv",
                            "--output=" + dir.resolve("lake"),
                            "--deadLetter=file:" + dir.resolve("dlq"),
                            "--runner=FlinkRunner",
                            "--flinkMaster=[local]",
                            "--parallelism=1"
                          });
      assertThat(err.toString(StandardCharsets.UTF_8), code, is(Launcher.OK));
    }
    assertThat(
        out.toString(StandardCharsets.UTF_8), containsString("Run summary: files-to-lake DONE"));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("written                   1"));
    try (var files = Files.list(dir.resolve("lake/dt=2026-11-25"))) {
      assertThat(
          files.map(f -> f.getFileName().toString()).toList(),
          org.hamcrest.Matchers.contains(
              org.hamcrest.Matchers.matchesPattern("part-[0-9a-f]{12}-[0-9a-f-]{36}\\.avro")));
    }
  }
}

package dev.sluice.runners.sandbox;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice sandbox} as a user runs it: up, connection details printed, Ctrl-C stops all. */
class SandboxCommandTest {
  @Test
  void sigtermStopsPostgresAndTheKafkaBroker(@TempDir Path dir) throws Exception {
    Process sandbox =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.sluice.runners.Sluice",
                "sandbox",
                "--workDir=" + dir)
            .redirectErrorStream(true)
            .start();
    Map<String, String> details = new HashMap<>();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(sandbox.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while (!details.containsKey("workDir") && (line = out.readLine()) != null) {
        int eq = line.indexOf('=');
        if (eq > 0
            && List.of("jdbcUrl", "jdbcUser", "bootstrapServers", "workDir")
                .contains(line.substring(0, eq))) {
          details.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      List<ProcessHandle> children = sandbox.toHandle().descendants().toList();
      assertThat(children.isEmpty(), is(false));
      String[] broker = details.get("bootstrapServers").split(":");
      int brokerPort = Integer.parseInt(broker[1]);
      int pgPort = Integer.parseInt(details.get("jdbcUrl").replaceAll(".*:(\\d+)/.*", "$1"));
      assertThat(connects(brokerPort), is(true));
      assertThat(connects(pgPort), is(true));

      sandbox.destroy(); // SIGTERM, as Ctrl-C's shutdown path
      assertThat(sandbox.waitFor(60, TimeUnit.SECONDS), is(true));
      for (ProcessHandle child : children) {
        child.onExit().get(30, TimeUnit.SECONDS);
        assertThat(child.isAlive(), is(false));
      }
      assertThat(connects(brokerPort), is(false));
      assertThat(connects(pgPort), is(false));
      assertThrows(
          SQLException.class,
          () -> DriverManager.getConnection(details.get("jdbcUrl"), "postgres", "").close());
    } finally {
      sandbox.destroyForcibly();
    }
  }

  private static boolean connects(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The alert rules shipped in {@code ops/prometheus}, checked and unit-tested with Prometheus's own
 * {@code promtool} (Debian's {@code prometheus} package, which {@code .ci/run} installs when it is
 * missing). Runs where promtool is installed (the build's {@code promtool} profile).
 */
class PrometheusRulesPromtoolTest {
  private static final Path OPS = Path.of("..", "ops", "prometheus").toAbsolutePath().normalize();

  private static String promtool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("promtool"));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(OPS.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(output, process.waitFor(), is(0));
    return output;
  }

  @Test
  void theRulesAreValidAndTheirTestsPassWithPromtool() throws Exception {
    assertThat(promtool("check", "rules", "sluice-rules.yml"), containsString("5 rules found"));
    assertThat(promtool("test", "rules", "sluice-rules.test.yml"), containsString("SUCCESS"));
  }
}

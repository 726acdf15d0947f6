package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The alert rules shipped in {@code ops/prometheus} are held to the series Sluice really serves
 * ({@link PrometheusRulesPromtoolTest} runs them through promtool).
 */
class PrometheusRulesTest {
  private static final Path OPS = Path.of("..", "ops", "prometheus").toAbsolutePath().normalize();

  /** Every series a rule reads is one that the pipelines' or the scheduler's /metrics serves. */
  @Test
  void theRulesReadOnlySeriesSluiceServes() throws Exception {
    String rules = Files.readString(OPS.resolve("sluice-rules.yml"));
    String served =
        Files.readString(Path.of("../io/src/main/java/dev/sluice/io/metrics/MetricsEndpoint.java"))
            + Files.readString(
                Path.of(
                    "../runners/src/main/java/dev/sluice/runners/workflow/SchedulerMetrics.java"));
    Set<String> missing = new TreeSet<>();
    Matcher m = Pattern.compile("sluice_[a-z_]+").matcher(rules);
    while (m.find()) {
      String series = m.group().replaceFirst("_total$", "");
      if (!served.contains("\"" + series + "\"")) {
        missing.add(m.group());
      }
    }
    assertThat(missing, is(empty()));
  }
}

package dev.sluice.io.metrics;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static List<String> scrape(MetricsEndpoint endpoint) throws Exception {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + endpoint.port() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode(), is(200));
    return Arrays.asList(response.body().split("\n"));
  }

  @Test
  void servesTheRunsFiguresUnderPrometheusNames() throws Exception {
    Map<String, Long> counters = new TreeMap<>();
    counters.put("read", 10L);
    counters.put("written", 7L);
    counters.put("dead_lettered", 2L);
    counters.put("dead_lettered.reason.parse", 2L);
    counters.put("dead_lettered.step.Parse", 2L);
    counters.put("filtered", 1L);
    counters.put("filtered.blank", 1L);
    counters.put("rule.amount_positive.evaluated", 9L);
    counters.put("rule.amount_positive.failed", 1L);
    counters.put("quality.window.rows_min.windows", 3L);
    counters.put("quality.window.rows_min.failed_windows", 1L);
    counters.put("dataset.nulls.note", 4L);
    LiveMetrics.Figures figures =
        new LiveMetrics.Figures(counters, Map.of("quality.window.rows_min.observed", 5L));
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start(
            "kafka-to-jdbc", new ConsumerLag("orders", () -> Map.of(0, 3L, 1, 0L)), 0)) {
      endpoint.watch(() -> figures);
      endpoint.state("RUNNING");
      List<String> lines = scrape(endpoint);
      String p = "pipeline=\"kafka-to-jdbc\"";
      assertThat(
          lines,
          hasItems(
              "sluice_records_read_total{" + p + "} 10.0",
              "sluice_records_written_total{" + p + "} 7.0",
              "sluice_records_dead_lettered_total{" + p + "} 2.0",
              "sluice_records_filtered_total{" + p + "} 1.0",
              "sluice_dead_letters_by_reason_total{" + p + ",reason=\"parse\"} 2.0",
              "sluice_dead_letters_by_step_total{" + p + ",step=\"Parse\"} 2.0",
              "sluice_filtered_by_reason_total{" + p + ",reason=\"blank\"} 1.0",
              "sluice_rule_evaluated_total{" + p + ",rule=\"amount_positive\"} 9.0",
              "sluice_rule_failed_total{" + p + ",rule=\"amount_positive\"} 1.0",
              "sluice_window_rule_windows_total{" + p + ",rule=\"rows_min\"} 3.0",
              "sluice_window_rule_failed_windows_total{" + p + ",rule=\"rows_min\"} 1.0",
              "sluice_window_rule_observed{" + p + ",rule=\"rows_min\"} 5.0",
              "sluice_counter_total{name=\"dataset.nulls.note\"," + p + "} 4.0",
              "sluice_kafka_consumer_lag{partition=\"0\"," + p + ",topic=\"orders\"} 3.0",
              "sluice_kafka_consumer_lag{partition=\"1\"," + p + ",topic=\"orders\"} 0.0",
              "sluice_run_state{" + p + ",state=\"RUNNING\"} 1.0",
              "sluice_run_state{" + p + ",state=\"DONE\"} 0.0",
              "sluice_live_metrics_up{" + p + "} 1.0"));
      assertThat(String.join("\n", lines), containsString("sluice_run_duration_seconds{" + p));
    }
  }

  @Test
  void keepsTheLastFiguresAndSaysSoWhenTheRunnerCannotBeAsked() throws Exception {
    AtomicBoolean down = new AtomicBoolean(false);
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("files-to-lake", null, 0)) {
      endpoint.watch(
          () -> {
            if (down.get()) {
              throw new IOException("connection refused");
            }
            return new LiveMetrics.Figures(Map.of("read", 4L), Map.of());
          });
      assertThat(
          scrape(endpoint), hasItems("sluice_records_read_total{pipeline=\"files-to-lake\"} 4.0"));
      down.set(true);
      List<String> lines = scrape(endpoint);
      assertThat(
          lines,
          hasItems(
              "sluice_records_read_total{pipeline=\"files-to-lake\"} 4.0",
              "sluice_live_metrics_up{pipeline=\"files-to-lake\"} 0.0"));
      assertThat(String.join("\n", lines), not(containsString("sluice_kafka_consumer_lag")));
    }
  }

  @Test
  void aPortInUseIsRefused() throws Exception {
    try (MetricsEndpoint first = MetricsEndpoint.start("p", null, 0)) {
      IOException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              IOException.class, () -> MetricsEndpoint.start("p", null, first.port()));
      assertThat(e.getMessage() + "", not(is("")));
    }
  }
}

package dev.sluice.tests;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** Reads Prometheus text endpoints: Sluice's {@code /metrics} and Flink's reporter. */
final class Prometheus {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private Prometheus() {}

  /** Every series of {@code http://localhost:<port>/metrics} and its value. */
  static Map<String, Double> scrape(int port) throws IOException, InterruptedException {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    Map<String, Double> series = new TreeMap<>();
    for (String line : response.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      try {
        series.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
      } catch (NumberFormatException e) {
        // a value such as NaN written differently: not one a test reads
      }
    }
    return series;
  }

  /**
   * The sum over the cluster's live processes of Flink's Prometheus series for a Beam metric
   * ({@code flink_taskmanager_job_task_operator_<namespace>_<name>}, one per operator and subtask);
   * a process a fault test killed is not counted.
   */
  static double flinkSum(FlinkCluster cluster, String metric) throws Exception {
    double sum = 0;
    String name = "flink_taskmanager_job_task_operator_" + metric;
    for (int port : cluster.prometheusPorts()) {
      Map<String, Double> series;
      try {
        series = scrape(port);
      } catch (ConnectException e) {
        continue;
      }
      for (Map.Entry<String, Double> e : series.entrySet()) {
        if (e.getKey().startsWith(name + "{")) {
          sum += e.getValue();
        }
      }
    }
    return sum;
  }
}

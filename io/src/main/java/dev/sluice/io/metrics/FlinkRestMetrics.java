package dev.sluice.io.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.rules.ApplyRules;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A Flink job's Beam metrics while it runs, read from the JobManager's REST API (the embedded
 * cluster's for {@code [local]}, the cluster's for an attached run). Beam's Flink runner registers
 * each metric in its operator's group as {@code <namespace>.<name>}; the REST API lists them per
 * job vertex as {@code <operator>.<namespace>_<name>}, its dots made underscores, and sums them
 * over subtasks. Names are turned back into Sluice's ({@link #beamName}); counters are summed over
 * operators, and a gauge takes the largest value.
 */
public final class FlinkRestMetrics implements LiveMetrics {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String address;
  private final String jobName;
  private final String namespace;
  private final Predicate<String> isGauge;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * @param address the REST address, {@code host:port} (what {@code --flinkMaster} names)
   * @param jobName the job's name ({@code --jobName})
   */
  public FlinkRestMetrics(
      String address, String jobName, String namespace, Predicate<String> isGauge) {
    this.address = address;
    this.jobName = jobName;
    this.namespace = namespace;
    this.isGauge = isGauge;
  }

  @Override
  public Figures read() throws IOException, InterruptedException {
    String job = jobId();
    if (job == null) {
      return Figures.NONE;
    }
    Map<String, Long> counters = new TreeMap<>();
    Map<String, Long> gauges = new TreeMap<>();
    String marker = "." + flinkName(namespace) + "_";
    for (JsonNode vertex : get("/jobs/" + job).path("vertices")) {
      String base =
          "/jobs/" + job + "/vertices/" + vertex.path("id").asText() + "/subtasks/metrics";
      List<String> ids = new ArrayList<>();
      for (JsonNode metric : get(base)) {
        String id = metric.path("id").asText();
        if (id.contains(marker)) {
          ids.add(id);
        }
      }
      for (List<String> batch : batches(ids)) {
        String query =
            URLEncoder.encode(String.join(",", batch), StandardCharsets.UTF_8).replace("+", "%20");
        for (JsonNode value : get(base + "?get=" + query + "&agg=sum,max")) {
          String id = value.path("id").asText();
          String name = beamName(id.substring(id.indexOf(marker) + marker.length()));
          if (isGauge.test(name)) {
            gauges.merge(name, value.path("max").asLong(), Math::max);
          } else {
            counters.merge(name, value.path("sum").asLong(), Long::sum);
          }
        }
      }
    }
    return new Figures(counters, gauges);
  }

  /** A name as Flink's metric query service writes it: dots, spaces, colons and commas as '_'. */
  static String flinkName(String name) {
    return name.replaceAll("[.\\s:,]", "_");
  }

  /** Sluice's counters and gauges whose names hold dots, by prefix and suffix. */
  private static final List<String> PREFIXES =
      List.of(
          Accounting.BY_REASON,
          Accounting.BY_STEP,
          Accounting.FILTERED_BY,
          ApplyRules.COUNTER_PREFIX,
          ApplyRules.WINDOW_PREFIX);

  private static final List<String> SUFFIXES =
      List.of(".evaluated", ".failed_windows", ".failed", ".windows", ".observed");

  /**
   * Sluice's name of a metric the REST API lists with underscores for dots: {@code
   * dead_lettered_reason_stale_version} is {@code dead_lettered.reason.stale_version}. A name of no
   * known shape stays as listed.
   */
  static String beamName(String listed) {
    if (listed.equals(flinkName(Accounting.REPLAY_SELECTED))) {
      return Accounting.REPLAY_SELECTED;
    }
    for (String prefix : PREFIXES) {
      String flatPrefix = flinkName(prefix);
      if (!listed.startsWith(flatPrefix) || listed.length() == flatPrefix.length()) {
        continue;
      }
      String rest = listed.substring(flatPrefix.length());
      if (prefix.equals(ApplyRules.COUNTER_PREFIX) || prefix.equals(ApplyRules.WINDOW_PREFIX)) {
        for (String suffix : SUFFIXES) {
          String flatSuffix = flinkName(suffix);
          if (rest.endsWith(flatSuffix) && rest.length() > flatSuffix.length()) {
            return prefix + rest.substring(0, rest.length() - flatSuffix.length()) + suffix;
          }
        }
        continue;
      }
      return prefix + rest;
    }
    return listed;
  }

  /** Ids in requests of a reasonable length; an id holding a comma goes alone. */
  private static List<List<String>> batches(List<String> ids) {
    List<List<String>> batches = new ArrayList<>();
    List<String> batch = new ArrayList<>();
    int length = 0;
    for (String id : ids) {
      if (id.contains(",")) {
        batches.add(List.of(id));
        continue;
      }
      if (length + id.length() > 2000 && !batch.isEmpty()) {
        batches.add(batch);
        batch = new ArrayList<>();
        length = 0;
      }
      batch.add(id);
      length += id.length() + 1;
    }
    if (!batch.isEmpty()) {
      batches.add(batch);
    }
    return batches;
  }

  /** The newest job of that name on the cluster, or null before it is submitted. */
  private String jobId() throws IOException, InterruptedException {
    String found = null;
    long newest = Long.MIN_VALUE;
    for (JsonNode job : get("/jobs/overview").path("jobs")) {
      if (job.path("name").asText().equals(jobName) && job.path("start-time").asLong() > newest) {
        newest = job.path("start-time").asLong();
        found = job.path("jid").asText();
      }
    }
    return found;
  }

  private JsonNode get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://" + address + path))
                .timeout(Duration.ofSeconds(10))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(
          "Flink REST " + path + " answered " + response.statusCode() + ": " + response.body());
    }
    return JSON.readTree(response.body());
  }
}

package dev.sluice.runners.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchReportTest {
  private static Map<String, Object> result(Scenario s, long n, double seconds, long rss) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("scenario", s.id());
    r.put("size", n);
    r.put("seconds", seconds);
    r.put("records_per_second", Math.round(n / seconds));
    r.put("peak_rss_bytes", rss);
    return r;
  }

  private static Map<String, Object> ratio(List<Map<String, Object>> ratios, long n, String name) {
    return ratios.stream()
        .filter(r -> ((Number) r.get("size")).longValue() == n && r.get("name").equals(name))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void ratiosAreComputedWithinTheRunAgainstTheIssuesTargets() {
    List<Map<String, Object>> results = new ArrayList<>();
    results.add(result(Scenario.KAFKA_TO_JDBC_FLINK, 1_000_000, 8.0, 900L << 20));
    results.add(result(Scenario.SINK_SLUICE, 1_000_000, 20.0, 500L << 20));
    results.add(result(Scenario.SINK_LOOP, 1_000_000, 50.0, 200L << 20));
    results.add(result(Scenario.FILES_TO_LAKE_DIRECT, 1_000_000, 40.0, 800L << 20));
    results.add(result(Scenario.FILES_LOOP, 1_000_000, 10.0, 300L << 20));
    results.add(result(Scenario.KAFKA_TO_JDBC_FLINK, 10_000_000, 90.0, 1000L << 20));
    BenchReport report = new BenchReport(results, List.of(1_000_000L, 10_000_000L));
    List<Map<String, Object>> ratios = report.ratios();

    Map<String, Object> flink =
        ratio(ratios, 1_000_000, "kafka-to-jdbc on Flink [local], records/s");
    assertThat(flink.get("value"), equalTo(125000.0));
    assertThat(flink.get("met"), equalTo(true));
    Map<String, Object> sink =
        ratio(ratios, 1_000_000, "JDBC sink speed / batched-upsert loop speed");
    assertThat(sink.get("value"), equalTo(2.5));
    assertThat(sink.get("met"), equalTo(true));
    Map<String, Object> files = ratio(ratios, 1_000_000, "files-to-lake speed / plain loop speed");
    assertThat(files.get("value"), equalTo(0.25));
    assertThat(files.get("met"), equalTo(false));
    Map<String, Object> memory =
        ratio(ratios, 10_000_000, "kafka-to-jdbc-flink: peak RSS at N=10000000 / at N=1000000");
    assertThat(memory.get("value"), equalTo(1.11));
    assertThat(memory.get("target"), equalTo("<= 1.20"));
    assertThat(memory.get("met"), equalTo(true));
    assertThat(
        report.markdown(BenchReport.machine(), "2g", "2026-11-26"),
        containsString(
            "| 1,000,000 | files-to-lake speed / plain loop speed | 0.25 | >= 0.50 | **no** |"));
  }
}

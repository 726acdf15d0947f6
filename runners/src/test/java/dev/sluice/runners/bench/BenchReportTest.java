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
    Map<String, Object> flink1m = result(Scenario.KAFKA_TO_JDBC_FLINK, 1_000_000, 8.0, 900L << 20);
    flink1m.put("first_row_seconds", 6.5);
    results.add(flink1m);
    results.add(result(Scenario.KAFKA_TO_JDBC_DIRECT, 1_000_000, 25.0, 1000L << 20));
    results.add(result(Scenario.SINK_COPY, 1_000_000, 4.0, 300L << 20));
    results.add(result(Scenario.SINK_SLUICE, 1_000_000, 20.0, 500L << 20));
    results.add(result(Scenario.SINK_LOOP, 1_000_000, 50.0, 200L << 20));
    results.add(result(Scenario.FILES_TO_LAKE_DIRECT, 1_000_000, 40.0, 800L << 20));
    results.add(result(Scenario.FILES_LOOP, 1_000_000, 10.0, 300L << 20));
    results.add(result(Scenario.FILES_MANY_SMALL, 1_000_000, 100.0, 900L << 20));
    results.add(result(Scenario.PEER_DEBEZIUM_JDBC, 1_000_000, 16.0, 600L << 20));
    results.add(result(Scenario.KAFKA_TO_JDBC_FLINK, 10_000_000, 90.0, 1000L << 20));
    Map<String, Object> failed = new LinkedHashMap<>();
    failed.put("scenario", Scenario.KAFKA_TO_JDBC_DIRECT.id());
    failed.put("size", 10_000_000L);
    failed.put("failed", "kafka-to-jdbc-direct ran out of memory (-Xmx2g)");
    results.add(failed);
    BenchReport report = new BenchReport(results, List.of(1_000_000L, 10_000_000L));
    List<Map<String, Object>> ratios = report.ratios();

    Map<String, Object> flink =
        ratio(ratios, 1_000_000, "kafka-to-jdbc on Flink [local] speed / sink-copy speed");
    assertThat(flink.get("value"), equalTo(0.5));
    assertThat(flink.get("target"), equalTo(">= 0.40"));
    assertThat(flink.get("met"), equalTo(true));
    Map<String, Object> direct =
        ratio(ratios, 1_000_000, "kafka-to-jdbc on Direct speed / sink-copy speed");
    assertThat(direct.get("value"), equalTo(0.16));
    assertThat(direct.get("met"), equalTo(false));
    Map<String, Object> sink = ratio(ratios, 1_000_000, "sink-sluice speed / sink-loop speed");
    assertThat(sink.get("value"), equalTo(2.5));
    assertThat(sink.get("met"), equalTo(true));
    Map<String, Object> files =
        ratio(ratios, 1_000_000, "files-to-lake on Direct speed / files-loop speed");
    assertThat(files.get("value"), equalTo(0.25));
    assertThat(files.get("met"), equalTo(false));
    Map<String, Object> many =
        ratio(
            ratios,
            1_000_000,
            "files-many-small time / files-to-lake-direct time (20,000 files vs one)");
    assertThat(many.get("value"), equalTo(2.5));
    assertThat(many.get("target"), equalTo("<= 3.00"));
    assertThat(many.get("met"), equalTo(true));
    Map<String, Object> first =
        ratio(
            ratios,
            1_000_000,
            "kafka-to-jdbc-flink: first row in the table, seconds after the JVM started");
    assertThat(first.get("value"), equalTo(6.5));
    assertThat(first.get("met"), equalTo(true));
    Map<String, Object> peer =
        ratio(ratios, 1_000_000, "kafka-to-jdbc on Flink [local] speed / Debezium JDBC sink speed");
    assertThat(peer.get("value"), equalTo(2.0));
    assertThat(peer.get("met"), equalTo(true));
    Map<String, Object> memory =
        ratio(ratios, 10_000_000, "kafka-to-jdbc-flink: peak RSS at N=10000000 / at N=1000000");
    assertThat(memory.get("value"), equalTo(1.11));
    assertThat(memory.get("target"), equalTo("<= 1.20"));
    assertThat(memory.get("met"), equalTo(true));
    // A failed scenario has no figures: no ratio, and the table says why.
    assertThat(
        ratios.stream()
            .anyMatch(
                r ->
                    r.get("name")
                        .equals("kafka-to-jdbc-direct: peak RSS at N=10000000 / at N=1000000")),
        equalTo(false));
    String markdown = report.markdown(BenchReport.machine(), "2g", "2026-11-26");
    assertThat(
        markdown,
        containsString(
            "| 1,000,000 | files-to-lake on Direct speed / files-loop speed | 0.25 | >= 0.40 | **no** |"));
    assertThat(
        markdown,
        containsString(
            "| kafka-to-jdbc-direct | 10,000,000 | failed: kafka-to-jdbc-direct ran out of memory (-Xmx2g) | | |"));
  }
}

package dev.sluice.transforms.rules;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.Traced;
import java.io.StringReader;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.testing.TestStream;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Dataset rules on a stream: judged per processing-time window, reported as metrics. */
@ExtendWith(TestPipelineExtension.class)
class WindowedQualityTest {
  private static Traced<GenericRecord> order(int id, String note) throws Exception {
    String t = "2026-11-25T10:00:00Z";
    return ApplyRulesTest.order(id, "1.00", "EUR", note, t, t);
  }

  @Test
  void eachWindowIsJudgedOnItsOwnRecords(TestPipeline pipeline) throws Exception {
    RulesFile rules =
        RulesFile.parse(
            "rules.yaml",
            new StringReader(
                """
                dataset: orders
                dataset_rules:
                  - {rule: row_count, min: 3, severity: error}
                  - {rule: unique, fields: [order_id], severity: error}
                  - {rule: null_rate, field: note, max: 0.5, severity: warn}
                """),
            Order.getClassSchema());
    TestStream<Traced<GenericRecord>> stream =
        TestStream.create(Traced.coder(AvroCoder.of(Order.getClassSchema())))
            // window 1: 3 rows, order 1 twice, one null note of 3: row_count passes, unique fails
            .addElements(order(1, "a"), order(1, "b"), order(2, null))
            .advanceProcessingTime(Duration.standardMinutes(2))
            // window 2: 2 rows, both notes null: row_count and null_rate fail, unique passes
            .addElements(order(3, null), order(4, null))
            .advanceProcessingTime(Duration.standardMinutes(2))
            .advanceWatermarkToInfinity();
    pipeline
        .apply(stream)
        .apply(
            ApplyRules.of(rules, Order.getClassSchema(), "stream")
                .withQualityWindow(Duration.standardMinutes(1)));
    PipelineResult run = pipeline.run();
    run.waitUntilFinish();
    Map<String, Long> counters = new TreeMap<>();
    run.metrics()
        .queryMetrics(
            MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace("stream")).build())
        .getCounters()
        .forEach(c -> counters.put(c.getName().getName(), c.getAttempted()));
    assertThat(counters.get("quality.window.row_count.windows"), equalTo(2L));
    assertThat(counters.get("quality.window.row_count.failed_windows"), equalTo(1L));
    assertThat(counters.get("quality.window.unique(order_id).windows"), equalTo(2L));
    assertThat(counters.get("quality.window.unique(order_id).failed_windows"), equalTo(1L));
    assertThat(counters.get("quality.window.null_rate(note).failed_windows"), equalTo(1L));
  }
}

package dev.sluice.transforms.rules;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.RecordParser;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Each record rule on known records, with the expected passes, dead letters and counts. */
@ExtendWith(TestPipelineExtension.class)
class ApplyRulesTest {
  private static final RecordParser JSON =
      RecordParser.of(Order.getClassSchema(), InputFormat.JSONL);

  static Traced<GenericRecord> order(
      int id, String amount, String currency, String note, String created, String updated)
      throws Exception {
    String json =
        "{\"order_id\":"
            + id
            + ",\"customer_id\":1,\"amount\":"
            + amount
            + ",\"currency\":\""
            + currency
            + "\",\"status\":\"NEW\",\"created_at\":\""
            + created
            + "\",\"updated_at\":\""
            + updated
            + "\",\"version\":1"
            + (note == null ? "" : ",\"note\":\"" + note + "\"")
            + "}";
    SourceRecord source = SourceRecord.of("test:" + id, json.getBytes(StandardCharsets.UTF_8));
    return Traced.of(source, JSON.parse(source));
  }

  @Test
  void errorRulesDeadLetterWarnRulesCountAndEveryRuleIsCounted(TestPipeline pipeline)
      throws Exception {
    RulesFile rules =
        RulesFile.parse(
            "rules.yaml",
            new StringReader(
                """
                dataset: orders
                record_rules:
                  - {rule: range, field: amount, min: 0, max: 100, inclusive: false, severity: error}
                  - {rule: accepted_values, field: currency, values: [EUR, USD], severity: warn}
                  - {rule: regex, field: currency, pattern: '[A-Z]{3}', severity: error}
                  - {rule: max_length, field: note, max: 5, severity: warn}
                  - {rule: not_null, field: note, severity: warn}
                  - {rule: compare, left: updated_at, op: '>=', right: created_at, name: updated_after_created}
                """),
            Order.getClassSchema());
    String t0 = "2026-11-25T10:00:00Z";
    String t1 = "2026-11-25T11:00:00Z";
    List<Traced<GenericRecord>> input =
        List.of(
            order(1, "10.00", "EUR", "ok", t0, t1), // passes all
            order(2, "0.00", "EUR", "ok", t0, t1), // range: 0 excluded -> dead letter
            order(
                3, "100.00", "USD", null, t0, t1), // range: 100 excluded -> dead letter; note null
            order(4, "5.00", "JPY", "too long", t0, t1), // warn: currency, max_length -> kept
            order(
                5, "5.00", "eur", "ok", t0, t1), // regex -> dead letter (and accepted_values warn)
            order(6, "5.00", "EUR", "ok", t1, t0)); // updated before created -> dead letter
    Result<Traced<GenericRecord>> result =
        pipeline
            .apply(Create.of(input).withCoder(Traced.coder(AvroCoder.of(Order.getClassSchema()))))
            .apply(ApplyRules.of(rules, Order.getClassSchema(), "p"));
    PAssert.that(
            result
                .output()
                .apply(
                    "Ids",
                    MapElements.into(TypeDescriptors.longs())
                        .via(kv -> (Long) kv.value().get("order_id"))))
        .containsInAnyOrder(1L, 4L);
    PAssert.that(
            result
                .deadLetters()
                .apply(
                    "RuleNames",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (DeadLetter d) ->
                                d.getOrigin()
                                    + " "
                                    + d.getReason()
                                    + " "
                                    + d.getRule()
                                    + " "
                                    + d.getStep())))
        .containsInAnyOrder(
            "test:2 rule range(amount) Rules",
            "test:3 rule range(amount) Rules",
            "test:5 rule regex(currency) Rules",
            "test:6 rule updated_after_created Rules");

    PipelineResult run = pipeline.run();
    run.waitUntilFinish();
    Map<String, Long> counters = new TreeMap<>();
    for (MetricResult<Long> c :
        run.metrics()
            .queryMetrics(
                MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace("p")).build())
            .getCounters()) {
      counters.put(c.getName().getName(), c.getAttempted());
    }
    Map<String, Long> expected = new TreeMap<>();
    for (String rule :
        List.of(
            "range(amount)",
            "accepted_values(currency)",
            "regex(currency)",
            "max_length(note)",
            "not_null(note)",
            "updated_after_created")) {
      expected.put("rule." + rule + ".evaluated", 6L);
    }
    expected.put("rule.range(amount).failed", 2L);
    expected.put("rule.accepted_values(currency).failed", 2L);
    expected.put("rule.regex(currency).failed", 1L);
    expected.put("rule.max_length(note).failed", 1L);
    expected.put("rule.not_null(note).failed", 1L);
    expected.put("rule.updated_after_created.failed", 1L);
    assertThat(counters, equalTo(expected));
  }
}

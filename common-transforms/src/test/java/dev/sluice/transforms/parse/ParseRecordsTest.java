package dev.sluice.transforms.parse;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.PipelineResult;
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

@ExtendWith(TestPipelineExtension.class)
class ParseRecordsTest {
  private static final byte[] HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note"
          .getBytes(StandardCharsets.UTF_8);

  private static SourceRecord line(int number, String text) {
    return new SourceRecord(
        "file:/in/a.csv#" + number, text.getBytes(StandardCharsets.UTF_8), null, HEADER);
  }

  @Test
  void routesGoodLinesToOutputBadLinesToDeadLettersAndCountsBlanksAsFiltered(
      TestPipeline pipeline) {
    List<SourceRecord> input = new ArrayList<>();
    input.add(line(2, "1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,"));
    input.add(line(3, "2,2,3.00,EUR,BOGUS,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,"));
    input.add(line(4, "  "));
    input.add(line(5, "3,2,\"3.00,EUR"));
    // A step that throws (here: a CSV record that lost its header) is a transform failure.
    input.add(
        new SourceRecord("file:/in/b.csv#2", "4,2".getBytes(StandardCharsets.UTF_8), null, null));

    Result<Traced<GenericRecord>> result =
        pipeline
            .apply(Create.of(input).withCoder(SourceRecord.SourceRecordCoder.of()))
            .apply(
                "Parse",
                ParseRecords.of(Order.getClassSchema(), InputFormat.CSV).withPipeline("p"));

    PAssert.that(
            result
                .output()
                .apply(
                    "Ids",
                    MapElements.into(TypeDescriptors.longs())
                        .via(r -> (Long) r.value().get("order_id"))))
        .containsInAnyOrder(1L);
    PAssert.that(
            result
                .deadLetters()
                .apply(
                    "Summaries",
                    MapElements.into(TypeDescriptors.strings()).via(ParseRecordsTest::summary)))
        .containsInAnyOrder(
            "file:/in/a.csv#3|schema|Parse|Order|"
                + "2,2,3.00,EUR,BOGUS,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,",
            "file:/in/a.csv#5|parse|Parse|Order|3,2,\"3.00,EUR",
            "file:/in/b.csv#2|transform|Parse|Order|4,2|java.lang.IllegalStateException");

    PipelineResult run = pipeline.run();
    run.waitUntilFinish();
    List<String> counters = new ArrayList<>();
    for (MetricResult<Long> c :
        run.metrics()
            .queryMetrics(
                MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace("p")).build())
            .getCounters()) {
      counters.add(c.getName().getName() + "=" + c.getAttempted());
    }
    assertThat(counters, containsInAnyOrder("filtered=1", "filtered.blank=1"));
  }

  private static String summary(DeadLetter d) {
    return String.join(
            "|",
            d.getOrigin(),
            d.getReason(),
            d.getStep(),
            d.getSchemaName(),
            new String(DeadLetterJson.bytes(d.getPayload()), StandardCharsets.UTF_8))
        + (d.getReason().equals("transform") ? "|" + d.getErrorClass() : "");
  }
}

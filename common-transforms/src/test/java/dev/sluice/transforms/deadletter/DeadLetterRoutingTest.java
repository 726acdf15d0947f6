package dev.sluice.transforms.deadletter;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class DeadLetterRoutingTest {

  /** A sink that checks what reaches it. */
  static final class ExpectSink extends PTransform<PCollection<DeadLetter>, PDone> {
    private final String[] expected;

    ExpectSink(String... expected) {
      this.expected = expected;
    }

    @Override
    public PDone expand(PCollection<DeadLetter> input) {
      PAssert.that(
              input.apply(
                  MapElements.into(TypeDescriptors.strings())
                      .via(
                          (DeadLetter d) ->
                              d.getStep()
                                  + "|"
                                  + d.getReason()
                                  + "|"
                                  + d.getOrigin()
                                  + "|"
                                  + new String(
                                      DeadLetterJson.bytes(d.getPayload()), StandardCharsets.UTF_8)
                                  + "|"
                                  + d.getErrorMessage())))
          .containsInAnyOrder(expected);
      return PDone.in(input.getPipeline());
    }
  }

  @Test
  void stepsAndBeamBadRecordsReachOneSinkCountedByStepAndReason(TestPipeline pipeline) {
    DeadLetterRouting.Collector collector =
        DeadLetterRouting.register(
            pipeline,
            Accounting.of("p"),
            new ExpectSink(
                "Parse|parse|file:/a#2|{x|bad json",
                "Upsert|sink|kafka:t/0@9|row|too long",
                "ReadKafka|decode|beam:ReadKafka/Failed to deserialize|raw|value is not an int"));
    DeadLetters parse = DeadLetters.forStep("p", "Parse");
    DeadLetters upsert = DeadLetters.forStep("p", "Upsert");
    collector.add(
        pipeline
            .apply(
                "ParseFailures",
                Create.of(
                    parse.of(
                        SourceRecord.of("file:/a#2", "{x".getBytes(StandardCharsets.UTF_8)),
                        new RecordException(FailureReason.PARSE, "bad json"))))
            .setCoder(DeadLetters.coder()));
    collector.add(
        pipeline
            .apply(
                "SinkFailures",
                Create.of(
                    upsert.of(
                        SourceRecord.of("kafka:t/0@9", "row".getBytes(StandardCharsets.UTF_8)),
                        new RecordException(FailureReason.SINK, "too long"))))
            .setCoder(DeadLetters.coder()));
    ErrorHandler<BadRecord, ?> beam =
        collector.forBeamIo(pipeline, "p", "ReadKafka", FailureReason.DECODE);
    BadRecord bad =
        BadRecord.builder()
            .setRecord(
                BadRecord.Record.builder()
                    .setHumanReadableJsonRecord("{\"raw\"}")
                    .setEncodedRecord("raw".getBytes(StandardCharsets.UTF_8))
                    .build())
            .setFailure(
                BadRecord.Failure.builder()
                    .setException("java.lang.NumberFormatException: value is not an int")
                    .setExceptionStacktrace(
                        "java.lang.NumberFormatException: value is not an int\n\tat x")
                    .setDescription("Failed to deserialize")
                    .build())
            .build();
    beam.addErrorCollection(pipeline.apply("BeamFailures", Create.of(bad)));
    collector.close();

    PipelineResult result = pipeline.run();
    result.waitUntilFinish();
    List<String> counters = new ArrayList<>();
    for (MetricResult<Long> c :
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace("p")).build())
            .getCounters()) {
      counters.add(c.getName().getName() + "=" + c.getAttempted());
    }
    assertThat(
        counters,
        containsInAnyOrder(
            "read=1",
            "dead_lettered=3",
            "dead_lettered.reason.parse=1",
            "dead_lettered.reason.sink=1",
            "dead_lettered.reason.decode=1",
            "dead_lettered.step.Parse=1",
            "dead_lettered.step.Upsert=1",
            "dead_lettered.step.ReadKafka=1"));
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.schemas.DeadLetter;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** kafka-to-jdbc streaming: an unbounded read, rows written as each bundle ends while it runs. */
@ExtendWith(SharedSandbox.class)
class KafkaToJdbcStreamingTest {
  @TempDir Path dir;

  @Test
  void flushesEachIntervalWhileRunningAndKeepsTheNewestVersion() throws Exception {
    String topic = SharedSandbox.newTopic("stream", 2);
    String table = SharedSandbox.newTableLike("orders", "orders_stream");
    KafkaToJdbcOptions options = PipelineOptionsFactory.as(KafkaToJdbcOptions.class);
    options.setBootstrapServers(SharedSandbox.bootstrapServers());
    options.setTopic(topic);
    options.setConsumerGroup("stream-test");
    options.setJdbcUrl(SharedSandbox.jdbcUrl());
    options.setJdbcUser("postgres");
    options.setTable(table);
    options.setDeadLetter("file:" + dir.resolve("dlq"));
    options.as(DirectOptions.class).setBlockOnRun(false);
    Pipeline pipeline = PipelineRun.build(new KafkaToJdbc(), options).pipeline();
    PipelineResult result = pipeline.run();
    try {
      StreamingOrders.produceAndAwaitNewest(topic, table);
      assertThat(
          StreamingOrders.await(
              () ->
                  LakeFiles.readDeadLetters(dir.resolve("dlq")).stream()
                      .map(DeadLetter::getOrigin)
                      .toList(),
              List.of("kafka:" + topic + "/1@1")),
          equalTo(List.of("kafka:" + topic + "/1@1")));
      assertThat(result.getState(), is(PipelineResult.State.RUNNING));
    } finally {
      result.cancel();
      result.waitUntilFinish(Duration.standardSeconds(30));
    }
  }
}

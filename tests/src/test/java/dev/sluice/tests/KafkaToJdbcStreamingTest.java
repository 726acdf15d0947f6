package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions;
import dev.sluice.schemas.DeadLetter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** kafka-to-jdbc streaming: an unbounded read, rows flushed every --flushInterval while it runs. */
@ExtendWith(SharedSandbox.class)
class KafkaToJdbcStreamingTest {
  @TempDir Path dir;

  private static <T> T await(Callable<T> value, T expected) throws Exception {
    long deadline = System.currentTimeMillis() + 90_000;
    T last = value.call();
    while (!expected.equals(last) && System.currentTimeMillis() < deadline) {
      Thread.sleep(250);
      last = value.call();
    }
    return last;
  }

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
    options.setFlushInterval("PT1S");
    options.as(DirectOptions.class).setBlockOnRun(false);
    Pipeline pipeline = Pipeline.create(options);
    new KafkaToJdbc().build(pipeline, options);
    PipelineResult result = pipeline.run();
    try {
      SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
      assertThat(
          await(
              () ->
                  SharedSandbox.text(
                      "SELECT string_agg(order_id || '@' || version, ',' ORDER BY order_id) FROM "
                          + table),
              "1@1,2@1"),
          equalTo("1@1,2@1"));

      // Later events: a newer version, an older one, and a malformed value.
      SharedSandbox.produce(topic, 1, json(1, 3, "3.00", "SHIPPED"), utf8("{oops"));
      SharedSandbox.produce(topic, 0, json(1, 2, "2.00", "PAID"));
      assertThat(
          await(
              () ->
                  SharedSandbox.text(
                      "SELECT string_agg(order_id || '@' || version || ':' || status, ',' ORDER BY order_id) FROM "
                          + table),
              "1@3:SHIPPED,2@1:NEW"),
          equalTo("1@3:SHIPPED,2@1:NEW"));
      assertThat(
          await(
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

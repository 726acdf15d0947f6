package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * The streaming scenario every runner goes through: two orders, then a newer version, an older one
 * and a malformed value; the table must converge to the newest version of each order.
 */
final class StreamingOrders {
  private StreamingOrders() {}

  /** How many orders a table holds, and how many of them are at version 2. */
  static String versions(String table) throws Exception {
    return SharedSandbox.text(
        "SELECT count(*) || ' orders, ' || count(*) FILTER (WHERE version = 2) || ' at v2' FROM "
            + table);
  }

  /**
   * A streaming kafka-to-jdbc run's options on the Direct runner, not blocking: {@code topic} (its
   * name as consumer group) into {@code table} of the sandbox's database, dead letters to {@code
   * deadLetters}.
   */
  static dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions kafkaToJdbc(
      String topic, String table, java.nio.file.Path deadLetters) {
    dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions options =
        org.apache.beam.sdk.options.PipelineOptionsFactory.as(
            dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions.class);
    options.setBootstrapServers(SharedSandbox.bootstrapServers());
    options.setTopic(topic);
    options.setConsumerGroup(topic);
    options.setJdbcUrl(SharedSandbox.jdbcUrl());
    options.setJdbcUser("postgres");
    options.setTable(table);
    options.setDeadLetter("file:" + deadLetters);
    options.as(org.apache.beam.runners.direct.DirectOptions.class).setBlockOnRun(false);
    return options;
  }

  /** Polls {@code value} until it equals {@code expected} or two minutes pass; the last value. */
  static <T> T await(Callable<T> value, T expected) throws Exception {
    Poll.until(Duration.ofMinutes(2), () -> expected.equals(value.call()));
    return value.call();
  }

  /**
   * Produces the scenario's events to a two-partition topic and waits for the table to show them;
   * the malformed value is {@code <topic>/1@1}, for the caller's dead-letter check.
   */
  static void produceAndAwaitNewest(String topic, String table) throws Exception {
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    assertThat(
        await(
            () ->
                SharedSandbox.text(
                    "SELECT string_agg(order_id || '@' || version, ',' ORDER BY order_id) FROM "
                        + table),
            "1@1,2@1"),
        equalTo("1@1,2@1"));
    // Later events: a newer version, an older one (ignored), and a malformed value.
    SharedSandbox.produce(topic, 1, json(1, 3, "3.00", "SHIPPED"), utf8("{oops"));
    SharedSandbox.produce(topic, 0, json(1, 2, "2.00", "PAID"));
    assertThat(
        await(
            () ->
                SharedSandbox.text(
                    "SELECT string_agg(order_id || '@' || version || ':' || status, ','"
                        + " ORDER BY order_id) FROM "
                        + table),
            "1@3:SHIPPED,2@1:NEW"),
        equalTo("1@3:SHIPPED,2@1:NEW"));
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.io.iceberg.TableOffsets;
import dev.sluice.pipelines.kafkatolake.KafkaToLake;
import dev.sluice.pipelines.kafkatolake.KafkaToLakeOptions;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.schemas.DeadLetter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-to-lake on a real broker into an Iceberg table, read back with Iceberg's generic reader:
 * every valid event exactly once, bounded and streaming, also when the offset commit after a table
 * commit is lost.
 */
@ExtendWith(SharedSandbox.class)
class KafkaToLakeEndToEndTest extends LauncherCalls {
  @TempDir Path dir;

  private String[] bounded(String topic, String group) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "kafka-to-lake",
                "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
                "--topic=" + topic,
                "--output=iceberg:lake.events",
                "--warehouse=" + dir.resolve("warehouse"),
                "--eventTimeField=created_at",
                "--deadLetter=file:" + dir.resolve("dlq"),
                "--bounded"));
    if (group != null) {
      args.add("--consumerGroup=" + group);
    }
    return args.toArray(String[]::new);
  }

  private IcebergCatalog catalog() {
    return new IcebergCatalog(
        "jdbc:sqlite:" + dir.resolve("warehouse/sluice-catalog.db"),
        dir.resolve("warehouse").toString(),
        null,
        null);
  }

  /** Each event of the table's current snapshot as {@code <order>@<version>}, sorted. */
  private List<String> events() throws Exception {
    return IcebergReads.rows(
        dir.resolve("warehouse"),
        "lake.events",
        null,
        r -> r.getField("order_id") + "@" + r.getField("version"));
  }

  /** The snapshots of the table's main branch, oldest first. */
  private List<Map<String, String>> summaries() throws Exception {
    Catalog c = catalog().open();
    try {
      Table table = c.loadTable(TableIdentifier.parse("lake.events"));
      List<Map<String, String>> out = new ArrayList<>();
      for (Snapshot s : table.snapshots()) {
        out.add(s.summary());
      }
      return out;
    } finally {
      ((AutoCloseable) c).close();
    }
  }

  /** Moves {@code group}'s committed offsets back: an offset commit that never happened. */
  private static void rewind(String topic, String group, Map<Integer, Long> offsets) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of("bootstrap.servers", SharedSandbox.bootstrapServers(), "group.id", group),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      consumer.commitSync(
          offsets.entrySet().stream()
              .collect(
                  Collectors.toMap(
                      e -> new TopicPartition(topic, e.getKey()),
                      e -> new OffsetAndMetadata(e.getValue()))));
    }
  }

  private static List<String> expected(String... events) {
    List<String> out = new ArrayList<>(List.of(events));
    out.sort(null);
    return out;
  }

  @Test
  void boundedRunsAppendEachEventOnceWhateverHappensToTheGroupsOffsets() throws Exception {
    String topic = SharedSandbox.newTopic("to-lake", 2);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    SharedSandbox.produce(
        topic, 1, json(1, 2, "1.50", "PAID"), utf8("{oops"), json(3, 1, "3.00", "NEW"));

    assertOk(run(bounded(topic, "lake-loader")));
    assertThat(events(), equalTo(expected("1@1", "1@2", "2@1", "3@1")));
    assertThat(
        LakeFiles.readDeadLetters(dir.resolve("dlq")).stream().map(DeadLetter::getOrigin).toList(),
        equalTo(List.of("kafka:" + topic + "/1@1")));
    assertThat(SharedSandbox.committedOffsets(topic, "lake-loader"), equalTo(Map.of(0, 2L, 1, 3L)));
    assertThat(
        summaries().get(summaries().size() - 1).get(TableOffsets.key(topic)), equalTo("0=2,1=3"));

    // The same group again: nothing new, nothing added.
    assertOk(run(bounded(topic, "lake-loader")));
    assertThat(events().size(), is(4));

    // Two new events, and the group's offsets lost (as if the run had died after its table
    // commit): the table's offsets say where to start, so only the new events are added.
    SharedSandbox.produce(topic, 0, json(4, 1, "4.00", "NEW"), json(2, 2, "2.50", "PAID"));
    rewind(topic, "lake-loader", Map.of(0, 0L, 1, 0L));
    assertOk(run(bounded(topic, "lake-loader")));
    assertThat(events(), equalTo(expected("1@1", "1@2", "2@1", "2@2", "3@1", "4@1")));
    assertThat(SharedSandbox.committedOffsets(topic, "lake-loader"), equalTo(Map.of(0, 4L, 1, 3L)));

    // Another reader (no group) continues where the table is, too.
    assertOk(run(bounded(topic, null)));
    assertThat(events().size(), is(6));
  }

  @Test
  void mergedByKeyShuffledVersionsConvergeToTheNewestAndARereadChangesNothing() throws Exception {
    String topic = SharedSandbox.newTopic("to-lake-merge", 2);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 3, "2.30", "SHIPPED"));
    SharedSandbox.produce(
        topic,
        1,
        json(1, 3, "1.30", "SHIPPED"),
        json(2, 1, "2.00", "NEW"),
        json(3, 2, "3.20", "PAID"));
    List<String> merge = new ArrayList<>(List.of(bounded(topic, "lake-merge")));
    merge.add("--keyFields=order_id");
    assertOk(run(merge.toArray(String[]::new)));
    assertThat(events(), equalTo(expected("1@3", "2@3", "3@2")));

    // Late older versions never replace newer ones; a newer one does.
    SharedSandbox.produce(
        topic,
        0,
        json(1, 2, "1.20", "PAID"),
        json(3, 1, "3.00", "NEW"),
        json(2, 4, "2.40", "SHIPPED"));
    assertOk(run(merge.toArray(String[]::new)));
    assertThat(events(), equalTo(expected("1@3", "2@4", "3@2")));

    // Another group re-reads the whole topic: the keyed table stays as it is, each key once.
    List<String> reread = new ArrayList<>(List.of(bounded(topic, "lake-merge-backfill")));
    reread.add("--keyFields=order_id");
    reread.add("--startReadTime=2000-01-01T00:00:00Z");
    assertOk(run(reread.toArray(String[]::new)));
    assertThat(events(), equalTo(expected("1@3", "2@4", "3@2")));

    // Maintenance never brings a replaced row back: files that deletes apply to are not compacted.
    assertOk(
        run(
            "maintain",
            "--output=iceberg:lake.events",
            "--warehouse=" + dir.resolve("warehouse"),
            "--compact",
            "--expireSnapshotsOlderThan=PT0S",
            "--removeOrphans",
            "--orphanAge=PT0S"));
    assertThat(events(), equalTo(expected("1@3", "2@4", "3@2")));
  }

  /** Dead letters replayed after a rules change land in the table once, in one commit. */
  @Test
  void replayedDeadLettersAreAppendedOnce() throws Exception {
    String topic = SharedSandbox.newTopic("to-lake-replay", 1);
    SharedSandbox.produce(topic, 0, json(1, 1, "19.99", "NEW"), json(2, 1, "250.00", "NEW"));
    Path strict =
        Files.writeString(
            dir.resolve("strict.yaml"),
            "dataset: orders\nrecord_rules:\n  - {rule: range, field: amount, max: 100}\n");
    Path relaxed =
        Files.writeString(
            dir.resolve("relaxed.yaml"),
            "dataset: orders\nrecord_rules:\n  - {rule: range, field: amount, max: 1000}\n");
    List<String> load = new ArrayList<>(List.of(bounded(topic, "lake-replay")));
    load.add("--rules=" + strict);
    assertOk(run(load.toArray(String[]::new)));
    assertThat(events(), equalTo(expected("1@1")));
    assertThat(LakeFiles.readDeadLetters(dir.resolve("dlq")).size(), is(1));

    List<String> replay =
        new ArrayList<>(
            List.of(
                "replay",
                "--from=file:" + dir.resolve("dlq"),
                "--pipeline=kafka-to-lake",
                "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
                "--topic=" + topic,
                "--output=iceberg:lake.events",
                "--warehouse=" + dir.resolve("warehouse"),
                "--deadLetter=file:" + dir.resolve("dlq"),
                "--rules=" + relaxed));
    assertOk(run(replay.toArray(String[]::new)));
    assertThat(events(), equalTo(expected("1@1", "2@1")));
    // Replayed once: a second replay selects nothing, and the table keeps one copy.
    assertOk(run(replay.toArray(String[]::new)));
    assertThat(events(), equalTo(expected("1@1", "2@1")));
  }

  @Test
  void aStreamCommitsEachIntervalThenTheOffsetsAndARestartReadsNothingTwice() throws Exception {
    String topic = SharedSandbox.newTopic("to-lake-stream", 2);
    SharedSandbox.produce(topic, 0, json(1, 1, "1.00", "NEW"), json(2, 1, "2.00", "NEW"));
    SharedSandbox.produce(topic, 1, json(3, 1, "3.00", "NEW"));
    PipelineResult first = stream(topic);
    try {
      assertThat(
          StreamingOrders.await(this::eventsOrNone, expected("1@1", "2@1", "3@1")),
          equalTo(expected("1@1", "2@1", "3@1")));
      SharedSandbox.produce(topic, 1, utf8("{oops"), json(3, 2, "3.50", "PAID"));
      assertThat(
          StreamingOrders.await(this::eventsOrNone, expected("1@1", "2@1", "3@1", "3@2")),
          equalTo(expected("1@1", "2@1", "3@1", "3@2")));
      // The group's offsets follow each table commit.
      assertThat(
          StreamingOrders.await(
              () -> SharedSandbox.committedOffsets(topic, "lake-stream"), Map.of(0, 2L, 1, 3L)),
          equalTo(Map.of(0, 2L, 1, 3L)));
      assertThat(
          StreamingOrders.await(
              () ->
                  LakeFiles.readDeadLetters(dir.resolve("dlq")).stream()
                      .map(DeadLetter::getOrigin)
                      .toList(),
              List.of("kafka:" + topic + "/1@1")),
          equalTo(List.of("kafka:" + topic + "/1@1")));
    } finally {
      first.cancel();
      first.waitUntilFinish(Duration.standardSeconds(30));
    }
    for (Map<String, String> summary : summaries()) {
      assertThat(summary.containsKey("sluice.commit-id"), is(true));
    }

    // The offset commit lost: a restart moves the group up to the table's offsets first, and only
    // the new event is added.
    rewind(topic, "lake-stream", Map.of(0, 0L, 1, 0L));
    PipelineResult second = stream(topic);
    try {
      SharedSandbox.produce(topic, 0, json(5, 1, "5.00", "NEW"));
      assertThat(
          StreamingOrders.await(this::eventsOrNone, expected("1@1", "2@1", "3@1", "3@2", "5@1")),
          equalTo(expected("1@1", "2@1", "3@1", "3@2", "5@1")));
      assertThat(
          StreamingOrders.await(
              () -> SharedSandbox.committedOffsets(topic, "lake-stream"), Map.of(0, 3L, 1, 3L)),
          equalTo(Map.of(0, 3L, 1, 3L)));
    } finally {
      second.cancel();
      second.waitUntilFinish(Duration.standardSeconds(30));
    }
  }

  @Test
  void aMergingStreamKeepsTheNewestVersionOfEachKey() throws Exception {
    String topic = SharedSandbox.newTopic("to-lake-merge-stream", 2);
    KafkaToLakeOptions options = PipelineOptionsFactory.as(KafkaToLakeOptions.class);
    options.setKeyFields(List.of("order_id"));
    PipelineResult result = stream(topic, options);
    try {
      SharedSandbox.produce(topic, 0, json(1, 2, "1.20", "PAID"), json(2, 1, "2.00", "NEW"));
      assertThat(
          StreamingOrders.await(this::eventsOrNone, expected("1@2", "2@1")),
          equalTo(expected("1@2", "2@1")));
      // A later commit: one newer version, one older that arrives late.
      SharedSandbox.produce(topic, 1, json(1, 1, "1.00", "NEW"), json(2, 3, "2.30", "SHIPPED"));
      assertThat(
          StreamingOrders.await(this::eventsOrNone, expected("1@2", "2@3")),
          equalTo(expected("1@2", "2@3")));
      assertThat(
          StreamingOrders.await(
              () -> SharedSandbox.committedOffsets(topic, "lake-stream"), Map.of(0, 2L, 1, 2L)),
          equalTo(Map.of(0, 2L, 1, 2L)));
    } finally {
      result.cancel();
      result.waitUntilFinish(Duration.standardSeconds(30));
    }
  }

  /**
   * On Flink a stream's commits need checkpoints (their input is stable only from a completed
   * checkpoint): without {@code --checkpointingInterval} the run is refused while planning, naming
   * the option and the commit step; with it, it is built.
   */
  @Test
  void aStreamOnFlinkWithoutCheckpointsIsRefusedNamingTheOption() throws Exception {
    String topic = SharedSandbox.newTopic("to-lake-flink-plan", 1);
    for (List<String> keys : List.of(List.<String>of(), List.of("order_id"))) {
      KafkaToLakeOptions options =
          streamOptions(
              topic, "lake-flink-plan", PipelineOptionsFactory.as(KafkaToLakeOptions.class));
      options.setKeyFields(keys.isEmpty() ? null : keys);
      options.setRunner(FlinkRunner.class);
      options.as(FlinkPipelineOptions.class).setFlinkMaster("[local]");
      IllegalArgumentException refused =
          assertThrows(
              IllegalArgumentException.class, () -> PipelineRun.build(new KafkaToLake(), options));
      assertThat(refused.getMessage(), containsString("--checkpointingInterval is needed"));
      assertThat(refused.getMessage(), containsString(keys.isEmpty() ? "/Commit" : "/Merge"));
      options.as(FlinkPipelineOptions.class).setCheckpointingInterval(1000L);
      assertThat(PipelineRun.build(new KafkaToLake(), options).plan().run().bounded(), is(false));
    }
  }

  private List<String> eventsOrNone() {
    try {
      return events();
    } catch (Exception e) {
      return List.of();
    }
  }

  private PipelineResult stream(String topic) throws Exception {
    return stream(topic, PipelineOptionsFactory.as(KafkaToLakeOptions.class));
  }

  /** {@code options} for a stream of {@code topic} under {@code group} into lake.events. */
  private KafkaToLakeOptions streamOptions(String topic, String group, KafkaToLakeOptions options) {
    options.setBootstrapServers(SharedSandbox.bootstrapServers());
    options.setTopic(topic);
    options.setConsumerGroup(group);
    options.setOutput("iceberg:lake.events");
    options.setWarehouse(dir.resolve("warehouse").toString());
    options.setDeadLetter("file:" + dir.resolve("dlq"));
    return options;
  }

  private PipelineResult stream(String topic, KafkaToLakeOptions options) throws Exception {
    streamOptions(topic, "lake-stream", options);
    options.setCommitInterval("PT2S");
    options.as(DirectOptions.class).setBlockOnRun(false);
    PipelineRun.Built<KafkaToLake.Plan> built = PipelineRun.build(new KafkaToLake(), options);
    // As the launcher does before it starts a run.
    for (RunPlan.Step step : built.plan().run().prepare()) {
      step.run(null);
    }
    Pipeline pipeline = built.pipeline();
    return pipeline.run();
  }
}

package dev.sluice.pipelines.graphs;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.files.ReadLines;
import dev.sluice.io.jdbc.ExportState;
import dev.sluice.io.jdbc.IncrementalRead;
import dev.sluice.io.jdbc.JdbcAvro;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.StagingTable;
import dev.sluice.io.jdbc.UpsertSql;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.kafka.KafkaOffsets;
import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.pipelines.jdbctolake.JdbcToLake;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.plan.LakeSink;
import dev.sluice.pipelines.plan.LakeTarget;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.plan.Steps;
import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.parse.InputFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.util.SerializableUtils;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every pipeline's graph is built from its plan alone: plans made by hand with hosts that do not
 * resolve build without a connection being opened (a Kafka consumer or a JDBC connection to {@code
 * unreachable.invalid} fails at once, so a build that opened one would fail here). The plans are
 * plain serializable values.
 */
class GraphsWithoutServicesTest {
  private static final String KAFKA = "unreachable.invalid:9092";
  private static final JdbcConnection DB =
      JdbcConnection.of("jdbc:postgresql://unreachable.invalid:5432/sluice", "sluice", null);
  private static final Schema ORDER = Schemas.byName("Order");

  @TempDir Path dir;

  @Test
  void boundedKafkaToJdbcWithAStagingTable() {
    KafkaOffsets offsets = new KafkaOffsets("orders", List.of(new KafkaOffsets.Range(0, 5, 25)));
    UpsertSql into = UpsertSql.of("orders", ORDER, List.of("order_id"), "version");
    StagingTable stage = new StagingTable(DB, "orders", "sluice_stage_1");
    RunPlan run =
        RunPlan.of(true, Map.of("table", "orders"), null)
            .withPrepare(new Steps.CreateStage(stage))
            .withOnSuccess(new Steps.MergeStage(stage, into))
            .withOnSuccess(
                new Steps.CommitOffsets(
                    offsets, KAFKA, KafkaClientProperties.fromFile(null), "loaders"))
            .withCleanup(new Steps.DropStage(stage));
    KafkaToJdbc.Plan plan =
        new KafkaToJdbc.Plan(
            run,
            ORDER,
            new KafkaToJdbc.Parse.Records(null, "version", null),
            InputFormat.JSONL,
            new KafkaToJdbc.KafkaTopic(
                KAFKA, "orders", "loaders", KafkaClientProperties.fromFile(null)),
            new KafkaToJdbc.Read.Bounded(offsets, 7),
            DB,
            into,
            new KafkaToJdbc.Target.Staged(stage),
            new KafkaToJdbc.WriteSettings(100, 2, true),
            null,
            "created_at",
            DeadLetterSink.parse("jdbc:sluice_dead_letters", null, targets()),
            "run-1",
            KafkaToJdbc.NAME,
            null,
            null,
            null,
            null);

    List<String> names = build(new KafkaToJdbc(), plan, false);

    assertThat(names, hasItems("ReadKafka", "Parse", "EventTime", "Upsert"));
    assertThat(display(new KafkaToJdbc(), plan, "table"), hasItem("sluice_stage_1"));
    assertThat(display(new KafkaToJdbc(), plan, "plannedRecords"), hasItem("20"));
  }

  @Test
  void streamingKafkaToJdbcWithKafkaDeadLetters() {
    UpsertSql into = UpsertSql.of("orders", ORDER, List.of("order_id"), "version");
    KafkaToJdbc.Plan plan =
        new KafkaToJdbc.Plan(
            RunPlan.of(false, Map.of("table", "orders"), null),
            ORDER,
            new KafkaToJdbc.Parse.Records(null, "version", null),
            InputFormat.AVRO,
            new KafkaToJdbc.KafkaTopic(
                KAFKA, "orders", "loaders", KafkaClientProperties.fromFile(null)),
            new KafkaToJdbc.Read.Stream(),
            DB,
            into,
            new KafkaToJdbc.Target.Table(),
            new KafkaToJdbc.WriteSettings(100, 2, false),
            null,
            null,
            DeadLetterSink.parse("kafka:orders-dlq", null, targets()),
            "run-2",
            KafkaToJdbc.NAME,
            null,
            null,
            null,
            null);

    List<String> names = build(new KafkaToJdbc(), plan, true);

    assertThat(names, hasItems("ReadKafka", "Parse", "Upsert"));
    assertThat(display(new KafkaToJdbc(), plan, "bounded"), hasItem("false"));
    assertThat(display(new KafkaToJdbc(), plan, "writeMethod"), hasItem("insert"));
  }

  @Test
  void jdbcToLake() {
    JdbcAvro avro =
        JdbcAvro.of(
            "orders",
            "orders",
            List.of(
                new JdbcAvro.ColumnType("order_id", "text", 0, 0, false),
                new JdbcAvro.ColumnType("amount", "numeric", 12, 2, true),
                new JdbcAvro.ColumnType("updated_at", "timestamptz", 0, 0, false)));
    IncrementalRead.Planned read =
        new IncrementalRead.Planned(
            "\"orders\"",
            "orders",
            avro,
            "2026-01-01 00:00:00+00",
            "2026-02-01 00:00:00+00",
            List.of(
                new IncrementalRead.Range("\"updated_at\" > CAST(? AS timestamptz)", List.of("a")),
                new IncrementalRead.Range("\"updated_at\" IS NULL", List.of())),
            "order_id");
    String staging = dir.resolve("lake/_sluice/staging-1").toString();
    JdbcToLake.Plan plan =
        new JdbcToLake.Plan(
            RunPlan.of(true, Map.of("lake", dir.resolve("lake").toString()), null)
                .withOnSuccess(
                    new Steps.PublishLake(
                        JdbcToLake.NAME,
                        avro.schema().toString(),
                        staging,
                        dir.resolve("lake").toString(),
                        List.of("part-x-"),
                        new LinkedHashMap<>(Map.of("export", "orders"))))
                .withOnSuccess(
                    new Steps.CommitWatermark(
                        DB,
                        new ExportState("sluice_export_state"),
                        "orders",
                        "updated_at",
                        "2026-02-01 00:00:00+00")),
            DB,
            read,
            new LakeSink.Append(
                new LakeTarget(staging, dir.resolve("lake").toString(), "updated_at", 1, "part-x")),
            null,
            DeadLetterSink.parse("jdbc:sluice_dead_letters", null, targets()),
            null,
            null);

    List<String> names = build(new JdbcToLake(), plan, false);

    assertThat(names, hasItems("ReadJdbc", "WriteLake"));
    assertThat(display(new JdbcToLake(), plan, "ranges"), hasItem("2"));
  }

  @Test
  void filesToLakeWatching() {
    FilesToLake.Plan plan =
        new FilesToLake.Plan(
            RunPlan.of(false, Map.of(), null),
            ORDER,
            InputFormat.CSV,
            dir.resolve("in/*.csv").toString(),
            new FilesToLake.Read.Watched(Duration.standardSeconds(5), Duration.standardSeconds(10)),
            false,
            1 << 20,
            List.of(dir.resolve("lake").toString()),
            new LakeTarget(
                dir.resolve("lake").toString(),
                dir.resolve("lake").toString(),
                "created_at",
                1,
                null),
            null,
            DeadLetterSink.parse("kafka:orders-dlq", null, targets()),
            null,
            dev.sluice.transforms.parse.SchemaChanges.Policy.dead_letter,
            null);

    List<String> names = build(new FilesToLake(), plan, true);

    assertThat(names, hasItems("ReadFiles", "Window", "Parse", "WriteLake"));
  }

  @Test
  void stagedFilesToLakeReadsThePlannedRangesWithoutTouchingTheFiles() {
    Path missing = dir.resolve("gone/orders.csv");
    FilesToLake.Plan plan =
        new FilesToLake.Plan(
            RunPlan.of(true, Map.of(), null),
            ORDER,
            InputFormat.CSV,
            dir.resolve("gone/*.csv").toString(),
            new FilesToLake.Read.Listed(
                List.of(missing.toString()),
                List.of(
                    new ReadLines.FileRange(missing.toString(), 0, 2, 0, 100),
                    new ReadLines.FileRange(missing.toString(), 1, 2, 100, 180))),
            false,
            1 << 20,
            List.of(dir.resolve("lake").toString(), dir.resolve("dlq").toString()),
            new LakeTarget(
                dir.resolve("lake/_sluice/staging-1").toString(),
                dir.resolve("lake").toString(),
                "created_at",
                1,
                null),
            null,
            DeadLetterSink.parse("file:" + dir.resolve("dlq"), null, targets()),
            null,
            dev.sluice.transforms.parse.SchemaChanges.Policy.dead_letter,
            null);

    List<String> names = build(new FilesToLake(), plan, false);

    assertThat(names, hasItems("ReadFiles", "Parse", "WriteLake"));
    assertThat(display(new FilesToLake(), plan, "ranges"), hasItem("2"));
  }

  private static DeadLetterSink.Targets targets() {
    return new DeadLetterSink.Targets(KAFKA, KafkaClientProperties.fromFile(null), DB);
  }

  /** Builds the plan's graph (after a round trip through Java serialization); the top names. */
  private static <P extends SluicePipeline.Plan> List<String> build(
      SluicePipeline<?, P> pipeline, P plan, boolean streaming) {
    P copy = SerializableUtils.ensureSerializable(plan);
    assertThat(copy.run().bounded(), is(!streaming));
    Pipeline graph = graph(streaming);
    pipeline.build(graph, copy);
    List<String> names = new ArrayList<>();
    graph.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode() && node.getEnclosingNode().isRootNode()) {
              names.add(node.getFullName());
            }
            return CompositeBehavior.ENTER_TRANSFORM;
          }
        });
    return names;
  }

  /** The values of display data items named {@code key}, anywhere in the plan's graph. */
  private static <P extends SluicePipeline.Plan> List<String> display(
      SluicePipeline<?, P> pipeline, P plan, String key) {
    Pipeline graph = graph(!plan.run().bounded());
    pipeline.build(graph, plan);
    List<String> values = new ArrayList<>();
    graph.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode()) {
              for (DisplayData.Item item : DisplayData.from(node.getTransform()).items()) {
                if (item.getKey().equals(key)) {
                  values.add(String.valueOf(item.getValue()));
                }
              }
            }
            return CompositeBehavior.ENTER_TRANSFORM;
          }
        });
    return values;
  }

  private static Pipeline graph(boolean streaming) {
    StreamingOptions options = PipelineOptionsFactory.as(StreamingOptions.class);
    options.setStreaming(streaming);
    return Pipeline.create(options);
  }
}

package dev.sluice.pipelines.graphs;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.is;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.files.WriteDataFiles;
import dev.sluice.io.jdbc.IncrementalRead;
import dev.sluice.io.jdbc.JdbcAvro;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.UpsertSql;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.pipelines.jdbctolake.JdbcToLake;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.plan.LakeSink;
import dev.sluice.pipelines.plan.LakeTarget;
import dev.sluice.pipelines.plan.Replay;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.parse.InputFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipelines' graphs on a {@link TestPipeline}, with the reads and writes that need services
 * replaced: what reaches the sink and what reaches the dead letters, step by step.
 */
@ExtendWith(TestPipelineExtension.class)
class GraphsWithIoReplacedTest {
  private static final JdbcConnection DB =
      JdbcConnection.of("jdbc:postgresql://unreachable.invalid:5432/sluice", "sluice", null);
  private static final Schema ORDER = Schemas.byName("Order");

  @TempDir Path dir;

  private static SourceRecord event(long offset, String json) {
    return SourceRecord.of("kafka:orders/0@" + offset, json.getBytes(StandardCharsets.UTF_8));
  }

  private static String order(long id, long version) {
    return "{\"order_id\":"
        + id
        + ",\"customer_id\":7,\"amount\":1.50,\"currency\":\"EUR\",\"status\":\"NEW\","
        + "\"created_at\":\"2026-11-25T10:00:00Z\",\"updated_at\":\"2026-11-25T10:00:00Z\","
        + "\"version\":"
        + version
        + "}";
  }

  @Test
  void kafkaToJdbcParsesWritesAndDeadLettersWhatDoesNotParseWithItsOrigin(TestPipeline pipeline) {
    KafkaToJdbc.Plan plan =
        kafkaToJdbcPlan(
            "updated_at",
            DeadLetterSink.parse("file:" + dir, null, DeadLetterSink.Targets.none()),
            null);
    PTransform<PBegin, PCollection<SourceRecord>> read =
        Create.of(
                event(0, order(1, 1)),
                event(1, "{\"order_id\": 2, \"amount\": \"not a number\"}"),
                event(2, order(3, 2)),
                event(3, "not json"))
            .withCoder(SourceRecord.SourceRecordCoder.of());
    Write write = new Write();
    Dead dead = new Dead(List.of("kafka:orders/0@1", "kafka:orders/0@3"));

    KafkaToJdbc.build(pipeline, plan, read, write, dead);

    pipeline.run().waitUntilFinish();
  }

  /** A kafka-to-jdbc plan on hosts that do not resolve; a replay's when {@code replay} is given. */
  private static KafkaToJdbc.Plan kafkaToJdbcPlan(
      String eventTimeField, DeadLetterSink sink, Replay replay) {
    return new KafkaToJdbc.Plan(
        RunPlan.of(true, Map.of(), null),
        ORDER,
        new KafkaToJdbc.Parse.Records(null, "version", null),
        InputFormat.JSONL,
        new KafkaToJdbc.KafkaTopic(
            "unreachable.invalid:9092", "orders", null, KafkaClientProperties.fromFile(null)),
        replay == null ? new KafkaToJdbc.Read.Stream() : new KafkaToJdbc.Read.Replayed(replay),
        DB,
        UpsertSql.of("orders", ORDER, List.of("order_id"), "version"),
        new KafkaToJdbc.Target.Table(),
        new KafkaToJdbc.WriteSettings(100, 0, true),
        null,
        eventTimeField,
        sink,
        "run",
        KafkaToJdbc.NAME,
        null,
        null,
        null,
        null);
  }

  private static Replay replay(DeadLetterSink store, boolean dryRun, SourceRecord... records) {
    Map<String, Integer> attempts = new HashMap<>();
    for (SourceRecord r : records) {
      attempts.put(Replay.recordKey(r.origin(), r.payload()), 2);
    }
    return new Replay(store, List.of("k1"), "replay-run", "t", List.of(records), attempts, dryRun);
  }

  /** A dry replay counts what would land and what would fail again, and writes nothing. */
  @Test
  void aDryReplayCountsWithoutWriting(TestPipeline pipeline) {
    DeadLetterSink sink = DeadLetterSink.parse("file:" + dir, null, DeadLetterSink.Targets.none());
    Replay replay = replay(sink, true, event(0, order(1, 1)), event(1, "not json"));

    new KafkaToJdbc().build(pipeline, kafkaToJdbcPlan(null, sink, replay));
    PipelineResult result = pipeline.run();
    result.waitUntilFinish();

    Map<String, Long> counters = new TreeMap<>();
    result
        .metrics()
        .queryMetrics(MetricsFilter.builder().build())
        .getCounters()
        .forEach(c -> counters.merge(c.getName().getName(), c.getAttempted(), Long::sum));
    assertThat(
        counters.toString(),
        org.hamcrest.Matchers.allOf(
            org.hamcrest.Matchers.containsString("read=2"),
            org.hamcrest.Matchers.containsString("replay.selected=2"),
            org.hamcrest.Matchers.containsString("written=1"),
            org.hamcrest.Matchers.containsString("dead_lettered=1")));
    assertThat(dir.toFile().list().length, org.hamcrest.Matchers.is(0));
  }

  /** A replayed record that fails again is dead-lettered with the attempt after its last. */
  @Test
  void aReplayedRecordFailingAgainComesBackWithTheNextAttempt(TestPipeline pipeline) {
    DeadLetterSink sink = DeadLetterSink.parse("file:" + dir, null, DeadLetterSink.Targets.none());
    Replay replay = replay(sink, false, event(0, order(1, 1)), event(1, "not json"));

    KafkaToJdbc.build(
        pipeline,
        kafkaToJdbcPlan(null, sink, replay),
        replay.read("kafka-to-jdbc"),
        Replay.dryWrite("kafka-to-jdbc"),
        replay.deadLetters(new AttemptsAtSink("kafka:orders/0@1 attempt 3")));

    pipeline.run().waitUntilFinish();
  }

  /** Asserts the origin and attempt of every dead letter it receives. */
  private static final class AttemptsAtSink extends PTransform<PCollection<DeadLetter>, PDone> {
    private final List<String> expected;

    AttemptsAtSink(String... expected) {
      this.expected = List.of(expected);
    }

    @Override
    public PDone expand(PCollection<DeadLetter> input) {
      PAssert.that(
              input.apply(
                  MapElements.into(TypeDescriptors.strings())
                      .via(d -> d.getOrigin() + " attempt " + d.getAttempt())))
          .containsInAnyOrder(expected);
      return PDone.in(input.getPipeline());
    }
  }

  @Test
  void jdbcToLakeWritesTheRowsItReadsIntoDatePartitions(TestPipeline pipeline) throws Exception {
    JdbcAvro avro =
        JdbcAvro.of(
            "orders",
            "orders",
            List.of(
                new JdbcAvro.ColumnType("id", "int8", 0, 0, false),
                new JdbcAvro.ColumnType("updated_at", "timestamptz", 0, 0, false)));
    Schema schema = avro.schema();
    Path staging = dir.resolve("lake/_sluice/staging-1");
    JdbcToLake.Plan plan =
        new JdbcToLake.Plan(
            RunPlan.of(true, Map.of(), null),
            DB,
            new IncrementalRead.Planned("\"orders\"", "orders", avro, null, "x", List.of(), "id"),
            new LakeSink.Append(
                new LakeTarget(
                    staging.toString(), dir.resolve("lake").toString(), "updated_at", 1, "part-t")),
            null,
            DeadLetterSink.parse("file:" + dir.resolve("dlq"), null, DeadLetterSink.Targets.none()),
            null,
            null);
    GenericRecord day1 = row(schema, 1, 1_764_064_800_000_000L); // 2025-11-25
    GenericRecord day2 = row(schema, 2, 1_764_151_200_000_000L); // 2025-11-26

    JdbcToLake.build(pipeline, plan, new Rows(schema, List.of(day1, day2)));
    pipeline.run().waitUntilFinish();

    try (Stream<Path> files = Files.walk(staging)) {
      assertThat(
          files
              .filter(Files::isRegularFile)
              .map(f -> staging.relativize(f).toString())
              .filter(f -> f.startsWith("dt="))
              .map(f -> f.replaceAll("-[0-9a-f-]{36}\\.avro$", ""))
              .toList(),
          // One file per partition written by the run's one bundle, named after the export.
          containsInAnyOrder("dt=2025-11-25/part-t", "dt=2025-11-26/part-t"));
    }
    assertThat(WriteDataFiles.listed(staging.resolve("_files").toString()).size(), is(2));
  }

  private static GenericRecord row(Schema schema, long id, long micros) {
    GenericRecord record = new GenericData.Record(schema);
    record.put("id", id);
    record.put("updated_at", micros);
    return record;
  }

  /** The write replaced: asserts the records that reach it, and counts each as written. */
  static final class Write extends PTransform<PCollection<Traced<GenericRecord>>, Result<Long>> {
    @Override
    public Result<Long> expand(PCollection<Traced<GenericRecord>> records) {
      PAssert.that(
              records.apply(
                  MapElements.into(TypeDescriptors.strings())
                      .via(
                          (Traced<GenericRecord> t) ->
                              t.source().origin() + " -> " + t.value().get("order_id"))))
          .containsInAnyOrder("kafka:orders/0@0 -> 1", "kafka:orders/0@2 -> 3");
      TupleTag<Long> written = new TupleTag<>() {};
      TupleTag<DeadLetter> failed = new TupleTag<>() {};
      PCollectionTuple out =
          records.apply(
              ParDo.of(
                      new DoFn<Traced<GenericRecord>, Long>() {
                        @ProcessElement
                        public void process(OutputReceiver<Long> out) {
                          out.output(1L);
                        }
                      })
                  .withOutputTags(written, TupleTagList.of(failed)));
      out.get(written).setCoder(VarLongCoder.of());
      out.get(failed).setCoder(DeadLetters.coder());
      return Result.of(out, written, failed);
    }
  }

  /** The dead-letter sink replaced: asserts the origins of what reaches it. */
  static final class Dead extends PTransform<PCollection<DeadLetter>, PDone> {
    private final List<String> origins;

    Dead(List<String> origins) {
      this.origins = origins;
    }

    @Override
    public PDone expand(PCollection<DeadLetter> deadLetters) {
      PAssert.that(
              deadLetters.apply(
                  MapElements.into(TypeDescriptors.strings())
                      .via((DeadLetter d) -> d.getOrigin() + " " + d.getStep())))
          .containsInAnyOrder(origins.stream().map(o -> o + " Parse").toList());
      return PDone.in(deadLetters.getPipeline());
    }
  }

  /** Each row with its origin. */
  static final class TraceFn extends DoFn<GenericRecord, Traced<GenericRecord>> {
    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<Traced<GenericRecord>> out) {
      out.output(Traced.of(SourceRecord.of("jdbc:orders/id=" + row.get("id"), new byte[0]), row));
    }
  }

  /** The read replaced: these rows, nothing dead-lettered. */
  static final class Rows extends PTransform<PBegin, Result<Traced<GenericRecord>>> {
    private final Schema schema;
    private final List<GenericRecord> rows;

    Rows(Schema schema, List<GenericRecord> rows) {
      this.schema = schema;
      this.rows = rows;
    }

    @Override
    public Result<Traced<GenericRecord>> expand(PBegin begin) {
      // Plain tags (no anonymous subclass holding on to this transform and its rows).
      TupleTag<Traced<GenericRecord>> read = new TupleTag<>("read");
      TupleTag<DeadLetter> failed = new TupleTag<>("failed");
      PCollectionTuple out =
          begin
              .apply(Create.of(rows).withCoder(AvroCoder.of(schema)))
              .apply(ParDo.of(new TraceFn()).withOutputTags(read, TupleTagList.of(failed)));
      out.get(read).setCoder(Traced.coder(AvroCoder.of(schema)));
      out.get(failed).setCoder(DeadLetters.coder());
      return Result.of(out, read, failed);
    }
  }
}

package dev.sluice.transforms.sql;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.RecordParser;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Orders per currency and hour, as count and sum, over a stream with late and too-late events: the
 * table the late firings upsert converges to the batch result over the events that were not too
 * late, the too-late event is a {@code late} dead letter, and a replay changes nothing.
 */
class WindowedAggregateTest {
  static final String SQL =
      "SELECT currency, TUMBLE_START(updated_at, INTERVAL '1' HOUR) AS window_start,"
          + " COUNT(*) AS orders, SUM(amount) AS total FROM input"
          + " GROUP BY currency, TUMBLE(updated_at, INTERVAL '1' HOUR)";

  /** Tables by name: key (currency@window) to "orders total", upserted guarded by orders. */
  static final Map<String, Map<String, String>> TABLES = new ConcurrentHashMap<>();

  static final Map<String, List<String>> DEAD_LETTERS = new ConcurrentHashMap<>();

  static final Instant BASE = Instant.parse("2026-11-25T10:00:00Z");

  static TimestampedValue<Traced<GenericRecord>> order(
      int id, String currency, String amount, int minute) {
    Instant at = BASE.plus(Duration.standardMinutes(minute));
    String json =
        "{\"order_id\":"
            + id
            + ",\"customer_id\":7,\"amount\":"
            + amount
            + ",\"currency\":\""
            + currency
            + "\",\"status\":\"NEW\",\"created_at\":\""
            + at
            + "\",\"updated_at\":\""
            + at
            + "\",\"version\":1}";
    SourceRecord source =
        SourceRecord.of("kafka:orders/0@" + id, json.getBytes(StandardCharsets.UTF_8));
    try {
      return TimestampedValue.of(
          Traced.of(
              source, RecordParser.of(Order.getClassSchema(), InputFormat.JSONL).parse(source)),
          at);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static final TimestampedValue<Traced<GenericRecord>> EUR_1005 = order(1, "EUR", "10.00", 5);
  static final TimestampedValue<Traced<GenericRecord>> EUR_1020 = order(2, "EUR", "2.50", 20);
  static final TimestampedValue<Traced<GenericRecord>> USD_1030 = order(3, "USD", "7.00", 30);
  static final TimestampedValue<Traced<GenericRecord>> EUR_1110 = order(4, "EUR", "1.00", 70);
  static final TimestampedValue<Traced<GenericRecord>> EUR_1040_LATE = order(5, "EUR", "0.25", 40);
  static final TimestampedValue<Traced<GenericRecord>> USD_1050_TOO_LATE =
      order(6, "USD", "100.00", 50);

  static Coder<Traced<GenericRecord>> coder() {
    return Traced.coder(AvroCoder.of(Order.getClassSchema()));
  }

  static RecordTransform transform() {
    return RecordTransform.compile(
        TransformSpec.ofSql(SQL),
        Order.getClassSchema(),
        Map.of(),
        Map.of("total", new int[] {12, 2}),
        null);
  }

  static TestStream<Traced<GenericRecord>> stream() {
    return TestStream.create(coder())
        .addElements(EUR_1005, EUR_1020, USD_1030, EUR_1110)
        .advanceWatermarkTo(BASE.plus(Duration.standardHours(1)))
        // Within the allowed lateness (PT30M): the 10:00 window fires again.
        .addElements(EUR_1040_LATE)
        .advanceWatermarkTo(BASE.plus(Duration.standardMinutes(105)))
        // The 10:00 window closed at 11:30: this one is too late.
        .addElements(USD_1050_TOO_LATE)
        .advanceWatermarkToInfinity();
  }

  static void run(PCollection<Traced<GenericRecord>> records, String table) {
    RecordTransform.Result result =
        transform().apply(records, Map.of(), "agg", Duration.standardMinutes(30));
    result.output().apply("Upsert", ParDo.of(new UpsertFn(table)));
    result.deadLetters().apply("Keep", ParDo.of(new KeepDeadLetterFn(table)));
    records.getPipeline().run().waitUntilFinish();
  }

  static Pipeline pipeline() {
    return Pipeline.create(PipelineOptionsFactory.create());
  }

  /** A streaming pipeline on Flink's local cluster (the classic FlinkRunner). */
  static Pipeline flink() {
    return Pipeline.create(
        PipelineOptionsFactory.fromArgs(
                "--runner=FlinkRunner", "--flinkMaster=[local]", "--streaming", "--parallelism=2")
            .create());
  }

  @Test
  void lateFiringsConvergeToTheBatchResultAndTooLateEventsAreDeadLetters() {
    Pipeline streaming = pipeline();
    run(streaming.apply(stream()), "streaming");

    Pipeline batch = pipeline();
    run(
        batch.apply(
            Create.timestamped(EUR_1005, EUR_1020, USD_1030, EUR_1110, EUR_1040_LATE)
                .withCoder(coder())),
        "batch");

    Map<String, String> expected = new TreeMap<>();
    expected.put("EUR@2026-11-25T10:00:00.000Z", "3 12.75");
    expected.put("USD@2026-11-25T10:00:00.000Z", "1 7.00");
    expected.put("EUR@2026-11-25T11:00:00.000Z", "1 1.00");
    assertThat(new TreeMap<>(TABLES.get("batch")), equalTo(expected));
    assertThat(new TreeMap<>(TABLES.get("streaming")), equalTo(expected));
    assertThat(
        DEAD_LETTERS.get("streaming"), equalTo(List.of("late kafka:orders/0@6 Transform.sql")));
    assertThat(DEAD_LETTERS.getOrDefault("batch", List.of()), equalTo(List.of()));

    // A replay of the same events into the same table changes nothing.
    Pipeline replay = pipeline();
    run(replay.apply(stream()), "streaming");
    assertThat(new TreeMap<>(TABLES.get("streaming")), equalTo(expected));
  }

  /**
   * The same stream on Flink. There, an event can overtake the watermark on its way to the judge
   * (they travel over different channels), so the too-late event may still be counted in its
   * window: then it is in the table, else it is a late dead letter. Either way nothing is lost, and
   * the late event within the allowed lateness updates its window.
   */
  @Test
  void onFlinkEveryEventIsInTheTableOrALateDeadLetter() {
    run(flink().apply(stream()), "flink");
    Map<String, String> table = new TreeMap<>(TABLES.get("flink"));
    List<String> late = DEAD_LETTERS.getOrDefault("flink", List.of());
    Map<String, String> expected = new TreeMap<>();
    expected.put("EUR@2026-11-25T10:00:00.000Z", "3 12.75");
    expected.put("USD@2026-11-25T10:00:00.000Z", late.isEmpty() ? "2 107.00" : "1 7.00");
    expected.put("EUR@2026-11-25T11:00:00.000Z", "1 1.00");
    assertThat(late + " " + table, table, equalTo(expected));
    assertThat(
        late, equalTo(late.isEmpty() ? List.of() : List.of("late kafka:orders/0@6 Transform.sql")));
  }

  /** The versioned upsert, in memory: a row is replaced by one with as many orders or more. */
  static final class UpsertFn extends DoFn<Traced<GenericRecord>, Void> {
    private final String table;

    UpsertFn(String table) {
      this.table = table;
    }

    @ProcessElement
    public void process(
        @Element Traced<GenericRecord> row,
        org.apache.beam.sdk.transforms.windowing.PaneInfo pane) {
      GenericRecord r = row.value();
      String key = r.get("currency") + "@" + new Instant((long) (Long) r.get("window_start"));
      long orders = (Long) r.get("orders");
      String value =
          orders + " " + AvroTypes.decimal((ByteBuffer) r.get("total"), 2).toPlainString();
      TABLES
          .computeIfAbsent(table, t -> new ConcurrentHashMap<>())
          .merge(
              key,
              value,
              (old, now) ->
                  Long.parseLong(now.split(" ")[0]) >= Long.parseLong(old.split(" ")[0])
                      ? now
                      : old);
    }
  }

  static final class KeepDeadLetterFn extends DoFn<DeadLetter, Void> {
    private final String table;

    KeepDeadLetterFn(String table) {
      this.table = table;
    }

    @ProcessElement
    public void process(@Element DeadLetter d) {
      DEAD_LETTERS
          .computeIfAbsent(table, t -> new java.util.concurrent.CopyOnWriteArrayList<>())
          .add(d.getReason() + " " + d.getOrigin() + " " + d.getStep());
    }
  }
}

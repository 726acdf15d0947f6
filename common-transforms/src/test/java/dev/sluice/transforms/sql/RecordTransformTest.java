package dev.sluice.transforms.sql;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.RecordParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The transform step on known orders: values, dead letters, filtered counts and refusals. */
@ExtendWith(TestPipelineExtension.class)
class RecordTransformTest {
  static final String PIPELINE = "t";

  static String order(long id, String amount, String currency, String status, String note) {
    return "{\"order_id\":"
        + id
        + ",\"customer_id\":7,\"amount\":"
        + amount
        + ",\"currency\":\""
        + currency
        + "\",\"status\":\""
        + status
        + "\",\"created_at\":\"2026-11-25T10:00:00Z\",\"updated_at\":\"2026-11-25T10:"
        + String.format("%02d", id)
        + ":00Z\",\"version\":1"
        + (note == null ? "" : ",\"note\":\"" + note + "\"")
        + "}";
  }

  static PCollection<Traced<GenericRecord>> orders(TestPipeline pipeline, String... json) {
    RecordParser parser = RecordParser.of(Order.getClassSchema(), InputFormat.JSONL);
    List<Traced<GenericRecord>> records = new ArrayList<>();
    for (int i = 0; i < json.length; i++) {
      SourceRecord source =
          SourceRecord.of("kafka:orders/0@" + i, json[i].getBytes(StandardCharsets.UTF_8));
      try {
        records.add(Traced.of(source, parser.parse(source)));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return pipeline.apply(
        Create.of(records).withCoder(Traced.coder(AvroCoder.of(Order.getClassSchema()))));
  }

  static RecordTransform compile(TransformSpec spec) {
    return RecordTransform.compile(spec, Order.getClassSchema(), Map.of(), Map.of(), null);
  }

  static PCollection<String> rendered(RecordTransform.Result result) {
    return result
        .output()
        .apply(
            "Render",
            MapElements.into(TypeDescriptors.strings())
                .via(t -> t.source().origin() + " " + t.value()));
  }

  static Map<String, Long> counters(PipelineResult run) {
    Map<String, Long> counters = new TreeMap<>();
    for (MetricResult<Long> c :
        run.metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.inNamespace(PIPELINE))
                    .build())
            .getCounters()) {
      counters.merge(c.getName().getName(), c.getAttempted(), Long::sum);
    }
    return counters;
  }

  @Test
  void projectionRenamesDerivesAndKeepsEachRecordsOrigin(TestPipeline pipeline) {
    RecordTransform transform =
        compile(
            TransformSpec.ofSql(
                "SELECT order_id AS id, UPPER(currency) AS cur, amount * 100 AS cents,"
                    + " status FROM input"));
    assertThat(
        transform.outputSchema().getFields().stream().map(f -> f.name()).toList(),
        equalTo(List.of("id", "cur", "cents", "status")));
    RecordTransform.Result result =
        transform.apply(
            orders(
                pipeline,
                order(1, "12.50", "eur", "NEW", null),
                order(2, "3", "usd", "PAID", null)),
            Map.of(),
            PIPELINE,
            null);
    PAssert.that(rendered(result))
        .containsInAnyOrder(
            "kafka:orders/0@0 {\"id\": 1, \"cur\": \"EUR\", \"cents\": "
                + decimalText("1250.000000000")
                + ", \"status\": \"NEW\"}",
            "kafka:orders/0@1 {\"id\": 2, \"cur\": \"USD\", \"cents\": "
                + decimalText("300.000000000")
                + ", \"status\": \"PAID\"}");
    PAssert.that(result.deadLetters()).empty();
    pipeline.run().waitUntilFinish();
  }

  /** How GenericData prints a decimal held as bytes: its unscaled bytes. */
  static String decimalText(String value) {
    java.math.BigDecimal decimal = new java.math.BigDecimal(value);
    org.apache.avro.generic.GenericData.Record r =
        new org.apache.avro.generic.GenericData.Record(
            org.apache.avro.SchemaBuilder.record("x")
                .fields()
                .name("d")
                .type()
                .bytesType()
                .noDefault()
                .endRecord());
    r.put("d", java.nio.ByteBuffer.wrap(decimal.unscaledValue().toByteArray()));
    String text = r.toString();
    return text.substring(text.indexOf(':') + 2, text.length() - 1);
  }

  @Test
  void aWhereCountsWhatItLeavesOutAsFiltered(TestPipeline pipeline) {
    RecordTransform transform =
        compile(
            TransformSpec.ofSql(
                "SELECT order_id, currency FROM input WHERE status <> 'CANCELLED'"));
    RecordTransform.Result result =
        transform.apply(
            orders(
                pipeline,
                order(1, "1", "EUR", "NEW", null),
                order(2, "1", "EUR", "CANCELLED", null),
                order(3, "1", "USD", "CANCELLED", null),
                order(4, "1", "USD", "PAID", null)),
            Map.of(),
            PIPELINE,
            null);
    PAssert.that(rendered(result))
        .containsInAnyOrder(
            "kafka:orders/0@0 {\"order_id\": 1, \"currency\": \"EUR\"}",
            "kafka:orders/0@3 {\"order_id\": 4, \"currency\": \"USD\"}");
    Map<String, Long> counters = counters(pipeline.run());
    assertThat(counters.get("filtered"), equalTo(2L));
    assertThat(counters.get("filtered.transform"), equalTo(2L));
  }

  @Test
  void aFailingExpressionIsATransformDeadLetterWithItsOriginAndBytes(TestPipeline pipeline) {
    RecordTransform transform =
        compile(TransformSpec.ofSql("SELECT order_id, CAST(note AS INTEGER) AS pieces FROM input"));
    String bad = order(2, "1", "EUR", "NEW", "twelve");
    RecordTransform.Result result =
        transform.apply(
            orders(pipeline, order(1, "1", "EUR", "NEW", "12"), bad), Map.of(), PIPELINE, null);
    PAssert.that(rendered(result))
        .containsInAnyOrder("kafka:orders/0@0 {\"order_id\": 1, \"pieces\": 12}");
    PAssert.that(
            result
                .deadLetters()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (DeadLetter d) ->
                                d.getReason()
                                    + "|"
                                    + d.getStep()
                                    + "|"
                                    + d.getOrigin()
                                    + "|"
                                    + new String(
                                        dev.sluice.transforms.core.AvroTypes.bytes(d.getPayload()),
                                        StandardCharsets.UTF_8)
                                    + "|"
                                    + d.getErrorMessage())))
        .containsInAnyOrder(
            "transform|Transform.sql|kafka:orders/0@1|"
                + bad
                + "|transform step 'sql': For input string: \"twelve\"");
    Map<String, Long> counters = counters(pipeline.run());
    assertThat(counters.getOrDefault("filtered", 0L), equalTo(0L));
  }

  @Test
  void mappingStepsRenameCastDropDeriveAndFilter(TestPipeline pipeline, @TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("transform.yaml");
    Files.writeString(
        file,
        """
        steps:
          - name: shape
            rename: {order_id: id}
            cast: {customer_id: VARCHAR}
            drop: [amount, created_at, updated_at, version, note, channel, status]
            derive: {paid: "status = 'PAID'"}
            filter: "status <> 'CANCELLED'"
          - name: tag
            sql: SELECT id, customer_id, currency || '/' || customer_id AS tag, paid FROM input
        """);
    RecordTransform transform = compile(TransformSpec.load(file.toString()));
    RecordTransform.Result result =
        transform.apply(
            orders(
                pipeline,
                order(1, "1", "EUR", "PAID", null),
                order(2, "1", "EUR", "CANCELLED", null),
                order(3, "1", "USD", "NEW", null)),
            Map.of(),
            PIPELINE,
            null);
    PAssert.that(rendered(result))
        .containsInAnyOrder(
            "kafka:orders/0@0 {\"id\": 1, \"customer_id\": \"7\", \"tag\": \"EUR/7\", \"paid\":"
                + " true}",
            "kafka:orders/0@2 {\"id\": 3, \"customer_id\": \"7\", \"tag\": \"USD/7\", \"paid\":"
                + " false}");
    Map<String, Long> counters = counters(pipeline.run());
    assertThat(counters.get("filtered.transform"), equalTo(1L));
  }

  @Test
  void aQueryNamingAMissingColumnIsRefusedBeforeAnythingRuns() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> compile(TransformSpec.ofSql("SELECT order_id, discount FROM input")));
    assertThat(
        e.getMessage(),
        allOf(containsString("transform step 'sql'"), containsString("'discount' not found")));
  }

  @Test
  void aMappingNamingAColumnItDoesNotReceiveIsRefused() {
    TransformSpec spec =
        new TransformSpec(
            List.of(
                new TransformSpec.Step(
                    "shape",
                    null,
                    Map.of("discount", "rebate"),
                    Map.of(),
                    List.of(),
                    Map.of(),
                    null)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> compile(spec));
    assertThat(
        e.getMessage(),
        allOf(containsString("transform step 'shape'"), containsString("[discount]")));
  }

  @Test
  void rowsThatDoNotFitTheContractAreRefusedNamingTheColumn() {
    org.apache.avro.Schema contract =
        org.apache.avro.SchemaBuilder.record("Slim")
            .namespace("dev.sluice.schemas")
            .fields()
            .requiredLong("order_id")
            .requiredString("region")
            .endRecord();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RecordTransform.compile(
                    TransformSpec.ofSql("SELECT order_id, currency FROM input"),
                    Order.getClassSchema(),
                    Map.of(),
                    Map.of(),
                    contract));
    assertThat(
        e.getMessage(),
        allOf(
            containsString("column region is missing"),
            containsString("column currency is not a field of dev.sluice.schemas.Slim")));
  }

  @Test
  void aRowThatDoesNotFitTheContractIsATransformDeadLetter(TestPipeline pipeline) {
    org.apache.avro.Schema contract =
        org.apache.avro.SchemaBuilder.record("Statuses")
            .namespace("dev.sluice.schemas")
            .fields()
            .requiredLong("order_id")
            .name("status")
            .type(Order.getClassSchema().getField("status").schema())
            .noDefault()
            .endRecord();
    RecordTransform transform =
        RecordTransform.compile(
            TransformSpec.ofSql(
                "SELECT order_id, CASE WHEN order_id = 2 THEN 'LOST' ELSE status END AS status"
                    + " FROM input"),
            Order.getClassSchema(),
            Map.of(),
            Map.of(),
            contract);
    RecordTransform.Result result =
        transform.apply(
            orders(pipeline, order(1, "1", "EUR", "NEW", null), order(2, "1", "EUR", "NEW", null)),
            Map.of(),
            PIPELINE,
            null);
    PAssert.that(rendered(result))
        .containsInAnyOrder("kafka:orders/0@0 {\"order_id\": 1, \"status\": \"NEW\"}");
    PAssert.that(
            result
                .deadLetters()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via((DeadLetter d) -> d.getOrigin() + " " + d.getErrorMessage())))
        .containsInAnyOrder(
            "kafka:orders/0@1 transform step 'sql' gave a row that does not fit"
                + " dev.sluice.schemas.Statuses: column status is 'LOST', not one of NEW, PAID,"
                + " SHIPPED, CANCELLED");
    Map<String, Long> counters = counters(pipeline.run());
    assertThat(counters.getOrDefault("filtered", 0L), equalTo(0L));
  }

  @Test
  void aStepReadingAnUnknownTableNamesTheLookupItNeeds() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                compile(
                    TransformSpec.ofSql(
                        "SELECT i.order_id, r.rate FROM input i JOIN rates r"
                            + " ON i.currency = r.currency")));
    assertThat(e.getMessage(), containsString("--lookup=rates=jdbc:<table>"));
  }

  @Test
  void anAggregateCountsItsRecordsAggregated(TestPipeline pipeline) {
    RecordTransform transform =
        compile(
            TransformSpec.ofSql(
                "SELECT currency, COUNT(*) AS orders, SUM(amount) AS total FROM input"
                    + " GROUP BY currency"));
    RecordTransform.Result result =
        transform.apply(
            orders(
                pipeline,
                order(1, "1.50", "EUR", "NEW", null),
                order(2, "2.25", "EUR", "NEW", null),
                order(3, "4", "USD", "NEW", null)),
            Map.of(),
            PIPELINE,
            null);
    PAssert.that(
            result
                .output()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            t ->
                                t.value().get("currency")
                                    + " "
                                    + t.value().get("orders")
                                    + " "
                                    + dev.sluice.transforms.core.AvroTypes.decimal(
                                            (java.nio.ByteBuffer) t.value().get("total"),
                                            SqlRows.DEFAULT_SCALE)
                                        .stripTrailingZeros()
                                        .toPlainString())))
        .containsInAnyOrder("EUR 2 3.75", "USD 1 4");
    Map<String, Long> counters = counters(pipeline.run());
    assertThat(counters.get("aggregated"), equalTo(3L));
  }
}

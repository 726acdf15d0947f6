package dev.sluice.transforms.parse;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.core.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** Fields the contract lacks: refused naming them, or kept aside in an open schema. */
class SchemaChangesTest {
  private static final Schema ORDER = Schemas.byName("Order");

  private static SourceRecord line(String json) {
    return SourceRecord.of("file:/in/a.jsonl#1", json.getBytes(StandardCharsets.UTF_8));
  }

  private static String order(String more) {
    return "{\"order_id\":1,\"customer_id\":2,\"amount\":1.50,\"currency\":\"EUR\","
        + "\"status\":\"NEW\",\"created_at\":\"2026-11-25T10:00:00Z\","
        + "\"updated_at\":\"2026-11-25T10:00:00Z\",\"version\":1"
        + more
        + "}";
  }

  @Test
  void aClosedSchemaRefusesNewFieldsNamingEachWithItsType() {
    RecordParser parser = RecordParser.of(ORDER, InputFormat.JSONL);
    SchemaChanges.SchemaChangeException e =
        assertThrows(
            SchemaChanges.SchemaChangeException.class,
            () ->
                parser.parse(
                    line(
                        order(
                            ",\"coupon\":\"X\",\"points\":7,\"ratio\":0.5,\"vip\":true,\"gone\":null"))));
    assertThat(e.getMessage(), equalTo("unknown field 'coupon' is not in schema Order"));
    assertThat(
        e.fields(),
        equalTo(
            List.of(
                new SchemaChanges.NewField("coupon", "string"),
                new SchemaChanges.NewField("points", "long"),
                new SchemaChanges.NewField("ratio", "double"),
                new SchemaChanges.NewField("vip", "boolean"),
                new SchemaChanges.NewField("gone", "null"))));
  }

  @Test
  void aCsvHeaderColumnTheContractLacksIsASchemaChangeOfText() {
    RecordParser parser = RecordParser.of(ORDER, InputFormat.CSV);
    byte[] header =
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,coupon,points"
            .getBytes(StandardCharsets.UTF_8);
    SourceRecord row =
        new SourceRecord(
            "file:/in/a.csv#2",
            "1,2,1.50,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,X,7"
                .getBytes(StandardCharsets.UTF_8),
            null,
            header);
    SchemaChanges.SchemaChangeException e =
        assertThrows(SchemaChanges.SchemaChangeException.class, () -> parser.parse(row));
    assertThat(
        e.getMessage(),
        equalTo("the file's header has column 'coupon', which is not a field of schema Order"));
    assertThat(
        e.fields(),
        equalTo(
            List.of(
                new SchemaChanges.NewField("coupon", "string"),
                new SchemaChanges.NewField("points", "string"))));
  }

  @Test
  void anOpenSchemaKeepsNewScalarsAsideAndRefusesNestedOnes() throws Exception {
    Schema open = SchemaChanges.open(ORDER);
    assertThat(open.getFields().get(open.getFields().size() - 1).name(), equalTo("_sluice_extra"));
    RecordParser parser = RecordParser.of(open, InputFormat.JSONL);
    GenericRecord plain = parser.parse(line(order("")));
    assertThat(plain.get(SchemaChanges.EXTRA), is(nullValue()));
    GenericRecord changed =
        parser.parse(line(order(",\"coupon\":\"X\",\"points\":7,\"gone\":null")));
    assertThat(changed.get("order_id"), is(1L));
    assertThat(
        SchemaChanges.extras(changed).keySet(), equalTo(java.util.Set.of("coupon", "points")));
    assertThat(
        changed.get(SchemaChanges.EXTRA).toString(), equalTo("{\"coupon\":\"X\",\"points\":7}"));

    SchemaChanges.SchemaChangeException nested =
        assertThrows(
            SchemaChanges.SchemaChangeException.class,
            () -> parser.parse(line(order(",\"address\":{\"city\":\"Oslo\"}"))));
    assertThat(
        nested.getMessage(),
        equalTo(
            "new field 'address' holds a record: only a string, number or boolean can be added as"
                + " a column"));
  }

  @Test
  void addedColumnsAreNullableAndTheHiddenFieldStaysLast() {
    Schema open = SchemaChanges.open(ORDER);
    Schema wider = SchemaChanges.withColumns(open, Map.of("coupon", "string"));
    List<Schema.Field> fields = wider.getFields();
    assertThat(fields.get(fields.size() - 2).name(), equalTo("coupon"));
    assertThat(fields.get(fields.size() - 2).schema().toString(), equalTo("[\"null\",\"string\"]"));
    assertThat(fields.get(fields.size() - 1).name(), equalTo(SchemaChanges.EXTRA));
    Schema closed = SchemaChanges.closed(wider);
    assertThat(closed.getField(SchemaChanges.EXTRA), is(nullValue()));
    assertThat(Schemas.version(closed), is(Schemas.version(ORDER)));
    assertThat(
        SchemaChanges.Change.fromMetric("coupon string kafka:t/0@2"),
        equalTo(new SchemaChanges.Change("coupon", "string", "kafka:t/0@2")));
  }
}

package dev.sluice.transforms.parse;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.RecordFiltered;
import dev.sluice.transforms.core.SourceRecord;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** Debezium change events, in both JSON converter shapes, into replica records of Order. */
class ChangeEventsTest {
  private static final Schema ORDER = Order.getClassSchema();
  private static final RecordParser PRECISE =
      RecordParser.ofChanges(ORDER, ChangeEvents.of("source.lsn", true));
  private static final RecordParser STRINGS =
      RecordParser.ofChanges(ORDER, ChangeEvents.of("source.lsn", false));

  private static String row(long id, String amount, String status) {
    return "{\"order_id\":"
        + id
        + ",\"customer_id\":7,\"amount\":"
        + amount
        + ",\"currency\":\"EUR\",\"status\":\""
        + status
        + "\",\"created_at\":\"2026-11-30T10:00:00.000000Z\",\"updated_at\":1764496800123000"
        + ",\"version\":1,\"note\":null,\"channel\":\"web\"}";
  }

  private static String event(String op, String before, String after, long lsn) {
    return "{\"before\":"
        + before
        + ",\"after\":"
        + after
        + ",\"source\":{\"connector\":\"postgresql\",\"lsn\":"
        + lsn
        + "},\"op\":\""
        + op
        + "\",\"ts_ms\":1}";
  }

  private static GenericRecord parse(RecordParser parser, String json)
      throws RecordException, RecordFiltered {
    return parser.parse(SourceRecord.of("kafka:cdc/0@1", json.getBytes(StandardCharsets.UTF_8)));
  }

  private static String base64(String decimal) {
    BigInteger unscaled = new BigDecimal(decimal).unscaledValue();
    return "\"" + Base64.getEncoder().encodeToString(unscaled.toByteArray()) + "\"";
  }

  @Test
  void anInsertWithoutTheSchemaWrapperBecomesTheRowAfterWithItsPosition() throws Exception {
    GenericRecord r = parse(PRECISE, event("c", "null", row(5, base64("12.34"), "NEW"), 900));
    assertThat(r.get("order_id"), is(5L));
    assertThat(
        new BigDecimal(new BigInteger(((ByteBuffer) r.get("amount")).array()), 2),
        is(new BigDecimal("12.34")));
    assertThat(r.get("created_at"), is(Instant.parse("2026-11-30T10:00:00Z").toEpochMilli()));
    // Micros since the epoch (Debezium's MicroTimestamp): read as micros, kept as millis.
    assertThat(r.get("updated_at"), is(1764496800123L));
    assertThat(r.get(ChangeEvents.POSITION), is(900L));
    assertThat(r.get(ChangeEvents.DELETED), is(false));
  }

  @Test
  void theSchemaWrapperGivesTheDecimalsScaleAndTheTimestampsUnit() throws Exception {
    String schema =
        "{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"field\":\"after\",\"fields\":["
            + "{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\","
            + "\"parameters\":{\"scale\":\"3\"},\"field\":\"amount\"},"
            + "{\"type\":\"int64\",\"name\":\"io.debezium.time.Timestamp\",\"field\":\"updated_at\"}"
            + "]}]}";
    String after = row(6, base64("1.500"), "PAID").replace("1764496800123000", "1764496800123");
    GenericRecord r =
        parse(
            PRECISE,
            "{\"schema\":" + schema + ",\"payload\":" + event("u", "null", after, 901) + "}");
    assertThat(
        new BigDecimal(new BigInteger(((ByteBuffer) r.get("amount")).array()), 2),
        is(new BigDecimal("1.50")));
    assertThat(r.get("updated_at"), is(1764496800123L));
    assertThat(r.get("status").toString(), is("PAID"));
  }

  @Test
  void aDeleteIsTheRowBeforeMarkedDeletedAndASnapshotReadIsAnInsert() throws Exception {
    GenericRecord d = parse(STRINGS, event("d", row(7, "\"3.10\"", "NEW"), "null", 950));
    assertThat(d.get("order_id"), is(7L));
    assertThat(d.get(ChangeEvents.DELETED), is(true));
    assertThat(d.get(ChangeEvents.POSITION), is(950L));
    GenericRecord r = parse(STRINGS, event("r", "null", row(8, "\"3.10\"", "NEW"), 10));
    assertThat(r.get(ChangeEvents.DELETED), is(false));
  }

  /**
   * The replica is held to its contract: a column the contract lacks is a schema dead letter naming
   * it, never silently dropped; a column the event lacks is treated as kafka-to-jdbc treats a
   * missing field (null when optional, the default when it has one, else a schema dead letter).
   */
  @Test
  void unknownColumnsAreSchemaFailuresAndMissingOnesAreTreatedAsMissingFields() throws Exception {
    String extra = row(9, "\"2.00\"", "NEW").replace("}", ",\"discount\":5,\"region\":\"eu\"}");
    RecordException unknown =
        assertThrows(RecordException.class, () -> parse(STRINGS, event("u", "null", extra, 960)));
    assertThat(unknown.reason(), is(FailureReason.SCHEMA));
    assertThat(unknown.getMessage(), containsString("unknown columns 'discount', 'region'"));
    assertThat(unknown.getMessage(), containsString("not in schema Order"));

    String withoutOptional =
        row(10, "\"2.00\"", "NEW")
            .replace(",\"note\":null", "")
            .replace(",\"channel\":\"web\"", "");
    GenericRecord r = parse(STRINGS, event("c", "null", withoutOptional, 961));
    assertThat(r.get("note"), is((Object) null));
    assertThat(r.get("channel").toString(), is("web"));

    String withoutRequired = row(11, "\"2.00\"", "NEW").replace("\"customer_id\":7,", "");
    RecordException missing =
        assertThrows(
            RecordException.class, () -> parse(STRINGS, event("c", "null", withoutRequired, 962)));
    assertThat(missing.reason(), is(FailureReason.SCHEMA));
    assertThat(missing.getMessage(), containsString("customer_id"));
    assertThat(missing.getMessage(), containsString("required but missing"));
  }

  @Test
  void truncateAndMessageEventsAreFilteredNotCalledMalformed() {
    RecordFiltered truncate =
        assertThrows(
            RecordFiltered.class,
            () ->
                parse(
                    PRECISE,
                    "{\"before\":null,\"after\":null,\"source\":{\"lsn\":5},\"op\":\"t\"}"));
    assertThat(truncate.cause(), is("truncate"));
    assertThat(truncate.getMessage(), containsString("truncate events are not applied"));
    RecordFiltered message =
        assertThrows(
            RecordFiltered.class,
            () ->
                parse(
                    PRECISE,
                    "{\"op\":\"m\",\"source\":{\"lsn\":6},\"message\":{\"prefix\":\"p\"}}"));
    assertThat(message.cause(), is("message"));
  }

  @Test
  void badEventsNameWhatIsWrong() {
    RecordException noOp =
        assertThrows(RecordException.class, () -> parse(PRECISE, "{\"after\":{}}"));
    assertThat(noOp.reason(), is(FailureReason.PARSE));
    assertThat(noOp.getMessage(), containsString("op is missing"));
    RecordException keyOnlyDelete =
        assertThrows(
            RecordException.class,
            () -> parse(PRECISE, event("d", "{\"order_id\":7}", "null", 951)));
    assertThat(keyOnlyDelete.reason(), is(FailureReason.SCHEMA));
    assertThat(keyOnlyDelete.getMessage(), containsString("REPLICA IDENTITY FULL"));
    RecordException noPosition =
        assertThrows(
            RecordException.class,
            () ->
                parse(
                    PRECISE,
                    event("c", "null", row(9, base64("1.00"), "NEW"), 1)
                        .replace("\"lsn\":1", "\"lsn\":\"x\"")));
    assertThat(noPosition.getMessage(), containsString("source.lsn is not an integer"));
    RecordException unfit =
        assertThrows(
            RecordException.class,
            () -> parse(STRINGS, event("c", "null", row(9, "\"1.00\"", "LOST"), 2)));
    assertThat(unfit.reason(), is(FailureReason.SCHEMA));
    assertThat(unfit.getMessage(), containsString("status"));
  }

  @Test
  void theReplicaSchemaAddsThePositionAndTheDeletedFlagOnce() {
    Schema replica = ChangeEvents.replicaSchema(ORDER);
    assertThat(replica.getFields().size(), is(ORDER.getFields().size() + 2));
    assertThat(ChangeEvents.replicaSchema(replica), is(replica));
    assertThrows(IllegalArgumentException.class, () -> ChangeEvents.of("source.", true));
  }

  @Test
  void postgresTypesAsDebeziumEmitsThemFitTheirAvroTypes() throws Exception {
    Schema contract =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Typed\",\"fields\":["
                    + "{\"name\":\"id\",\"type\":\"long\"},"
                    + "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
                    + "{\"name\":\"flag\",\"type\":\"boolean\"},"
                    + "{\"name\":\"ref\",\"type\":\"string\"},"
                    + "{\"name\":\"doc\",\"type\":\"string\"},"
                    + "{\"name\":\"price\",\"type\":{\"type\":\"bytes\",\"logicalType\":"
                    + "\"decimal\",\"precision\":10,\"scale\":2}},"
                    + "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":"
                    + "\"timestamp-micros\"}},"
                    + "{\"name\":\"gone\",\"type\":[\"null\",\"string\"],\"default\":null}]}");
    String schema =
        "{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"field\":\"after\",\"fields\":["
            + "{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"day\"},"
            + "{\"type\":\"string\",\"name\":\"io.debezium.data.Uuid\",\"field\":\"ref\"},"
            + "{\"type\":\"string\",\"name\":\"io.debezium.data.Json\",\"field\":\"doc\"},"
            + "{\"type\":\"string\",\"field\":\"price\"},"
            + "{\"type\":\"int64\",\"name\":\"io.debezium.time.NanoTimestamp\",\"field\":\"at\"}"
            + "]}]}";
    String after =
        "{\"id\":1,\"day\":20422,\"flag\":true,"
            + "\"ref\":\"0b9e2c1a-7f4e-4c55-9a43-1f2e3d4c5b6a\",\"doc\":\"{\\\"a\\\": [1, 2]}\","
            + "\"price\":\"19.90\",\"at\":1764496800123456000,\"gone\":null}";
    RecordParser parser = RecordParser.ofChanges(contract, ChangeEvents.of("source.lsn", true));
    GenericRecord r =
        parse(
            parser, "{\"schema\":" + schema + ",\"payload\":" + event("r", "null", after, 3) + "}");
    assertThat(r.get("day"), is(20422));
    assertThat(r.get("flag"), is(true));
    assertThat(r.get("ref").toString(), is("0b9e2c1a-7f4e-4c55-9a43-1f2e3d4c5b6a"));
    assertThat(r.get("doc").toString(), is("{\"a\": [1, 2]}"));
    assertThat(
        new BigDecimal(new BigInteger(((ByteBuffer) r.get("price")).array()), 2),
        is(new BigDecimal("19.90")));
    assertThat(r.get("at"), is(1764496800123456L));
    assertThat(r.get("gone"), is((Object) null));
  }
}

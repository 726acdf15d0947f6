package dev.sluice.transforms.parse;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.Order;
import dev.sluice.schemas.SchemaHistory;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

/** A v2 pipeline reads what v1 producers wrote: Avro schema resolution and JSON defaults. */
class SchemaEvolutionTest {
  private static final Schema V1 = SchemaHistory.of("order").version(1);

  private static GenericRecord v1Order(long id) {
    GenericData.Record r = new GenericData.Record(V1);
    r.put("order_id", id);
    r.put("customer_id", 7L);
    r.put("amount", ByteBuffer.wrap(BigInteger.valueOf(1250).toByteArray()));
    r.put("currency", "EUR");
    r.put("status", new GenericData.EnumSymbol(V1.getField("status").schema(), "PAID"));
    r.put("created_at", 1_795_608_000_000L);
    r.put("updated_at", 1_795_608_000_000L);
    r.put("version", 1L);
    r.put("note", null);
    return r;
  }

  private static byte[] plainBinary(GenericRecord record) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static SourceRecord value(byte[] bytes) {
    return SourceRecord.of("kafka:orders/0@1", bytes);
  }

  @Test
  void singleObjectEncodedV1IsResolvedToV2WithTheNewFieldsDefault() throws Exception {
    byte[] bytes =
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), V1).encode(v1Order(5)).array();
    GenericRecord read =
        RecordParser.of(Order.getClassSchema(), InputFormat.AVRO).parse(value(bytes));
    assertThat(read.get("order_id"), is(5L));
    assertThat(read.get("channel").toString(), equalTo("web"));
    assertThat(read.get("status").toString(), equalTo("PAID"));
    assertThat(read.getSchema().getField("channel") != null, is(true));
  }

  @Test
  void plainV1BinaryIsResolvedWhenTheWriterVersionIsGiven() throws Exception {
    byte[] bytes = plainBinary(v1Order(6));
    GenericRecord read =
        RecordParser.of(Order.getClassSchema(), InputFormat.AVRO)
            .withWriterVersion(1)
            .parse(value(bytes));
    assertThat(read.get("order_id"), is(6L));
    assertThat(read.get("channel").toString(), equalTo("web"));
    assertThrows(
        IllegalArgumentException.class,
        () -> RecordParser.of(Order.getClassSchema(), InputFormat.AVRO).withWriterVersion(9));
  }

  @Test
  void anUnknownFingerprintIsASchemaFailure() {
    byte[] bytes = {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0};
    RecordException e =
        assertThrows(
            RecordException.class,
            () -> RecordParser.of(Order.getClassSchema(), InputFormat.AVRO).parse(value(bytes)));
    assertThat(e.reason(), is(FailureReason.SCHEMA));
    assertThat(e.getMessage(), containsString("no released version of Order"));
  }

  @Test
  void jsonFromAV1ProducerGetsTheNewFieldsDefault() throws Exception {
    String json =
        "{\"order_id\":1,\"customer_id\":2,\"amount\":1.00,\"currency\":\"EUR\",\"status\":\"NEW\","
            + "\"created_at\":\"2026-11-25T10:15:30Z\",\"updated_at\":\"2026-11-25T10:15:30Z\",\"version\":1}";
    GenericRecord read =
        RecordParser.of(Order.getClassSchema(), InputFormat.JSONL)
            .parse(value(json.getBytes(StandardCharsets.UTF_8)));
    assertThat(read.get("channel").toString(), equalTo("web"));
  }
}

package dev.sluice.transforms.parse;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RecordParserTest {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note";
  private static final RecordParser CSV = RecordParser.of(Order.getClassSchema(), InputFormat.CSV);
  private static final RecordParser JSON =
      RecordParser.of(Order.getClassSchema(), InputFormat.JSONL);

  private static SourceRecord csv(String line) {
    return csv(HEADER, line);
  }

  private static SourceRecord csv(String header, String line) {
    return new SourceRecord(
        "file:/in/a.csv#2",
        line.getBytes(StandardCharsets.UTF_8),
        null,
        header.getBytes(StandardCharsets.UTF_8));
  }

  private static SourceRecord json(String line) {
    return SourceRecord.of("file:/in/a.jsonl#1", line.getBytes(StandardCharsets.UTF_8));
  }

  private static BigDecimal amount(GenericRecord record) {
    return new BigDecimal(new BigInteger(bytes((ByteBuffer) record.get("amount"))), 2);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }

  @Test
  void parsesCsvLineWithQuotedCommaDoubledQuotesAndNonAscii() throws Exception {
    GenericRecord record =
        CSV.parse(
            csv(
                "7,42,1234567890.12,EUR,PAID,2026-11-25T10:15:30Z,2026-11-25T11:00:00.250Z,3,"
                    + "\"Grüße, \"\"quoted\"\" 東京\""));
    assertThat(record.get("order_id"), is(7L));
    assertThat(record.get("customer_id"), is(42L));
    assertThat(amount(record), equalTo(new BigDecimal("1234567890.12")));
    assertThat(record.get("currency"), equalTo("EUR"));
    assertThat(record.get("status").toString(), equalTo("PAID"));
    assertThat(record.get("created_at"), is(Instant.parse("2026-11-25T10:15:30Z").toEpochMilli()));
    assertThat(
        record.get("updated_at"), is(Instant.parse("2026-11-25T11:00:00.250Z").toEpochMilli()));
    assertThat(record.get("version"), is(3L));
    assertThat(record.get("note"), equalTo("Grüße, \"quoted\" 東京"));
  }

  @Test
  void csvColumnsMayComeInAnyOrderAndEmptyCellIsNull() throws Exception {
    GenericRecord record =
        CSV.parse(
            csv(
                "note,version,updated_at,created_at,status,currency,amount,customer_id,order_id",
                ",1,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,NEW,USD,5,9,8"));
    assertThat(record.get("order_id"), is(8L));
    assertThat(amount(record), equalTo(new BigDecimal("5.00")));
    assertThat(record.get("note"), nullValue());
  }

  @Test
  void timestampWithOffsetIsConvertedToUtc() throws Exception {
    GenericRecord record =
        CSV.parse(csv("1,2,3.00,EUR,NEW,2026-11-25T12:15:30+02:00,2026-11-25T10:15:30Z,1,"));
    assertThat(record.get("created_at"), is(Instant.parse("2026-11-25T10:15:30Z").toEpochMilli()));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          missing required value  | 1,,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,  | SCHEMA | field 'customer_id' is required but missing
          wrong type              | x1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1, | SCHEMA | field 'order_id' expected a long but was 'x1'
          unknown enum symbol     | 1,2,3.00,EUR,LOST,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1, | SCHEMA | field 'status' 'LOST' is not one of NEW, PAID, SHIPPED, CANCELLED
          decimal overflow        | 1,2,12345678901.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1, | SCHEMA | field 'amount' value 12345678901.00 overflows decimal(12,2)
          decimal rounding        | 1,2,3.001,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1, | SCHEMA | field 'amount' value 3.001 has more than 2 decimal places
          long overflow           | 99999999999999999999,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1, | SCHEMA | field 'order_id' expected a long
          sub-millisecond time    | 1,2,3.00,EUR,NEW,2026-11-25T10:15:30.0001Z,2026-11-25T10:15:30Z,1, | SCHEMA | sub-millisecond precision
          timestamp without zone  | 1,2,3.00,EUR,NEW,2026-11-25T10:15:30,2026-11-25T10:15:30Z,1, | SCHEMA | field 'created_at' expected an ISO-8601 timestamp
          too many columns        | 1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,,extra | PARSE | expected 9 columns (as in the header) but found 10
          too few columns         | 1,2,3.00,EUR,NEW                                              | PARSE  | expected 9 columns (as in the header) but found 5
          unbalanced quotes       | 1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,"open | PARSE | unbalanced quotes
          text after closing quote | 1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,"a"b | PARSE | invalid CSV
          """)
  void rejectsBadCsvLineNamingWhatIsWrong(
      String kind, String line, FailureReason reason, String message) {
    RecordException e = assertThrows(RecordException.class, () -> CSV.parse(csv(line)));
    assertThat(e.reason(), is(reason));
    assertThat(e.getMessage(), containsString(message));
  }

  @Test
  void headerWithUnknownColumnFailsEveryRowNamingTheColumn() {
    RecordException e =
        assertThrows(
            RecordException.class,
            () ->
                CSV.parse(
                    csv(
                        HEADER + ",colour",
                        "1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,,red")));
    assertThat(e.reason(), is(FailureReason.SCHEMA));
    assertThat(e.getMessage(), containsString("column 'colour'"));
  }

  @Test
  void invalidUtf8IsADecodeFailureNamingTheOffset() {
    byte[] bytes = {'1', ',', (byte) 0xC3, (byte) 0x28};
    RecordException e =
        assertThrows(
            RecordException.class,
            () ->
                CSV.parse(
                    new SourceRecord(
                        "file:/in/a.csv#3", bytes, null, HEADER.getBytes(StandardCharsets.UTF_8))));
    assertThat(e.reason(), is(FailureReason.DECODE));
    assertThat(e.getMessage(), containsString("byte offset 2"));
  }

  @Test
  void parsesJsonLineKeepingDecimalsExact() throws Exception {
    GenericRecord record =
        JSON.parse(
            json(
                "{\"order_id\":1,\"customer_id\":2,\"amount\":0.10,\"currency\":\"EUR\","
                    + "\"status\":\"NEW\",\"created_at\":\"2026-11-25T10:15:30Z\","
                    + "\"updated_at\":\"2026-11-25T12:00:00Z\",\"version\":4,\"note\":\"naïve\"}"));
    assertThat(amount(record), equalTo(new BigDecimal("0.10")));
    assertThat(record.get("updated_at"), is(1795608000000L));
    assertThat(record.get("note"), equalTo("naïve"));
    assertThat(((GenericData.Record) record).getSchema(), equalTo(Order.getClassSchema()));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          truncated JSON   | {"order_id":1,                       | PARSE  | invalid JSON
          not an object    | [1,2,3]                              | PARSE  | expected a JSON object but found array
          trailing garbage | {"order_id":1} x                     | PARSE  | invalid JSON
          duplicate key    | {"order_id":1,"order_id":2}          | PARSE  | Duplicate field
          unknown field    | {"order_id":1,"colour":"red"}        | SCHEMA | unknown field 'colour'
          string for long  | {"order_id":"1","customer_id":2,"amount":1,"currency":"EUR","status":"NEW","created_at":"2026-11-25T10:15:30Z","updated_at":"2026-11-25T10:15:30Z","version":1} | SCHEMA | field 'order_id' expected a long but was string
          fraction for long | {"order_id":1.5,"customer_id":2,"amount":1,"currency":"EUR","status":"NEW","created_at":"2026-11-25T10:15:30Z","updated_at":"2026-11-25T10:15:30Z","version":1} | SCHEMA | field 'order_id' expected a long but was number
          null required    | {"order_id":1,"customer_id":null,"amount":1,"currency":"EUR","status":"NEW","created_at":"2026-11-25T10:15:30Z","updated_at":"2026-11-25T10:15:30Z","version":1} | SCHEMA | field 'customer_id' is required but missing
          long overflow    | {"order_id":99999999999999999999,"customer_id":2,"amount":1,"currency":"EUR","status":"NEW","created_at":"2026-11-25T10:15:30Z","updated_at":"2026-11-25T10:15:30Z","version":1} | SCHEMA | field 'order_id' value 99999999999999999999 overflows a long
          """)
  void rejectsBadJsonLineNamingWhatIsWrong(
      String kind, String line, FailureReason reason, String message) {
    RecordException e = assertThrows(RecordException.class, () -> JSON.parse(json(line)));
    assertThat(e.reason(), is(reason));
    assertThat(e.getMessage(), containsString(message));
  }

  @Test
  void blankLinesAreRecognised() {
    assertThat(RecordParser.isBlank(" \t\r".getBytes(StandardCharsets.UTF_8)), is(true));
    assertThat(RecordParser.isBlank(" x ".getBytes(StandardCharsets.UTF_8)), is(false));
  }

  private static String order(String field, String jsonValue) {
    String line =
        "{\"order_id\":1,\"customer_id\":2,\"amount\":1.00,\"currency\":\"EUR\",\"status\":\"NEW\","
            + "\"created_at\":\"2026-11-25T10:15:30Z\",\"updated_at\":\"2026-11-25T10:15:30Z\","
            + "\"version\":1,\"note\":null}";
    return line.replaceFirst(
        "\"" + field + "\":[^,}]*",
        "\"" + field + "\":" + jsonValue.replace("\\", "\\\\").replace("$", "\\$"));
  }

  /**
   * Values that are a few bytes long but would cost a billion digits (or silently become something
   * else) are schema dead letters, found without expanding them; each message names the field.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          huge exponent            | amount     | 1e999999999          | field 'amount' value 1E+999999999 overflows decimal(12,2)
          huge exponent as text    | amount     | "1e999999999"        | field 'amount' value 1E+999999999 overflows decimal(12,2)
          tiny exponent            | amount     | 1e-999999999         | field 'amount' value 1E-999999999 has more than 2 decimal places
          tiny exponent as text    | amount     | "1e-999999999"       | field 'amount' value 1E-999999999 has more than 2 decimal places
          integer timestamp        | created_at | 1795608000000        | field 'created_at' expected an ISO-8601 timestamp with offset
          timestamp out of range   | created_at | "+999999999-01-01T00:00:00Z" | field 'created_at' timestamp +999999999-01-01T00:00:00Z is out of range
          lone surrogate           | note       | "a\\ud800b"           | field 'note' holds an unpaired UTF-16 surrogate \\ud800 at character 1
          """)
  void refusesValuesThatWouldExplodeOrChangeNamingTheField(
      String kind, String field, String value, String message) {
    RecordException e =
        assertThrows(RecordException.class, () -> JSON.parse(json(order(field, value))));
    assertThat(e.reason(), is(FailureReason.SCHEMA));
    assertThat(e.getMessage(), containsString(message));
  }

  @Test
  void aHugeExponentInACsvCellIsASchemaDeadLetter() {
    RecordException e =
        assertThrows(
            RecordException.class,
            () ->
                CSV.parse(
                    csv("1,2,1e999999999,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,")));
    assertThat(e.reason(), is(FailureReason.SCHEMA));
    assertThat(e.getMessage(), containsString("field 'amount' value 1E+999999999 overflows"));
  }

  @Test
  void aZeroWithAHugeExponentIsZero() throws Exception {
    assertThat(
        amount(JSON.parse(json(order("amount", "0e-999999999")))), equalTo(new BigDecimal("0.00")));
    assertThat(
        amount(
            CSV.parse(
                csv("1,2,0E+999999999,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,"))),
        equalTo(new BigDecimal("0.00")));
  }

  @Test
  void doublesMustBeFinite() {
    org.apache.avro.Schema schema =
        new org.apache.avro.Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Reading\",\"fields\":[{\"name\":\"v\",\"type\":\"double\"},"
                    + "{\"name\":\"f\",\"type\":\"float\"}]}");
    RecordParser jsonl = RecordParser.of(schema, InputFormat.JSONL);
    RecordParser csv = RecordParser.of(schema, InputFormat.CSV);
    for (String line : new String[] {"{\"v\":1e999,\"f\":1}", "{\"v\":1,\"f\":1e39}"}) {
      RecordException e = assertThrows(RecordException.class, () -> jsonl.parse(json(line)));
      assertThat(e.getMessage(), containsString("expected a finite number"));
    }
    for (String line : new String[] {"NaN,1", "Infinity,1", "1e999,1", "1,1e39"}) {
      RecordException e = assertThrows(RecordException.class, () -> csv.parse(csv("v,f", line)));
      assertThat(line, e.getMessage(), containsString("expected a finite number"));
    }
  }
}

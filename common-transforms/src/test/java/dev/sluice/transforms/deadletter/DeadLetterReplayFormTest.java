package dev.sluice.transforms.deadletter;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.SchemaHistory;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/** A dead letter keeps what a replay needs, in every form it is stored in, old ones included. */
class DeadLetterReplayFormTest {
  private static final byte[] HEADER = "order_id,amount".getBytes(StandardCharsets.UTF_8);
  private static final byte[] LINE = "1,x".getBytes(StandardCharsets.UTF_8);

  private static DeadLetter csvDeadLetter() {
    return DeadLetters.forStep("files-to-lake", "Parse")
        .of(
            new SourceRecord("file:/in/a.csv#2", LINE, 1_795_608_000_000L, HEADER),
            new RecordException(FailureReason.SCHEMA, "amount: 'x' is no decimal"));
  }

  @Test
  void theSourceRecordComesBackWithItsCsvHeaderFromJsonAndAvro() {
    DeadLetter d = csvDeadLetter();
    for (DeadLetter stored :
        new DeadLetter[] {
          DeadLetterJson.fromJson(DeadLetterJson.toJson(d)),
          DeadLetterBinary.fromBytes(DeadLetterBinary.toBytes(d))
        }) {
      SourceRecord back = DeadLetters.source(stored);
      assertThat(back.origin(), equalTo("file:/in/a.csv#2"));
      assertThat(back.payload(), equalTo(LINE));
      assertThat(back.header(), equalTo(HEADER));
      assertThat(back.sourceTimestamp(), equalTo(1_795_608_000_000L));
    }
  }

  @Test
  void aDeadLetterWrittenByVersionOneIsReadWithNoHeader() throws Exception {
    Schema v1 = SchemaHistory.of("dead_letter").version(1);
    DeadLetter d = csvDeadLetter();
    GenericRecord old = new GenericData.Record(v1);
    for (Schema.Field field : v1.getFields()) {
      old.put(field.name(), d.get(field.name()));
    }
    old.put("failed_at", d.getFailedAt().toEpochMilli());
    old.put("source_timestamp", d.getSourceTimestamp().toEpochMilli());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    new GenericDatumWriter<GenericRecord>(v1).write(old, encoder);
    encoder.flush();

    DeadLetter read = DeadLetterBinary.fromBytes(bytes.toByteArray());

    assertThat(read.getOrigin(), equalTo("file:/in/a.csv#2"));
    assertThat(DeadLetterJson.bytes(read.getPayload()), equalTo(LINE));
    assertThat(read.getErrorMessage(), equalTo("amount: 'x' is no decimal"));
    assertThat(read.getPayloadHeader(), nullValue());
  }
}

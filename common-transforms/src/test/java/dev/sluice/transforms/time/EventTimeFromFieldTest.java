package dev.sluice.transforms.time;

import dev.sluice.schemas.Order;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.RecordParser;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class EventTimeFromFieldTest {
  static final class IdAtTimestamp extends DoFn<Traced<GenericRecord>, String> {
    @ProcessElement
    public void process(ProcessContext c) {
      c.output(c.element().value().get("order_id") + "@" + c.timestamp());
    }
  }

  @Test
  void eventTimeComesFromTheFieldNotTheSourceTimestamp(TestPipeline pipeline) throws Exception {
    String json =
        "{\"order_id\":1,\"customer_id\":2,\"amount\":1,\"currency\":\"EUR\",\"status\":\"NEW\","
            + "\"created_at\":\"2026-11-25T10:00:00Z\",\"updated_at\":\"2026-11-25T11:30:00Z\",\"version\":1}";
    SourceRecord source = SourceRecord.of("kafka:t/0@0", json.getBytes(StandardCharsets.UTF_8));
    GenericRecord record = RecordParser.of(Order.getClassSchema(), InputFormat.JSONL).parse(source);
    PAssert.that(
            pipeline
                .apply(
                    Create.timestamped(
                            TimestampedValue.of(Traced.of(source, record), new Instant(0L)))
                        .withCoder(Traced.coder(AvroCoder.of(Order.getClassSchema()))))
                .apply(EventTimeFromField.of(Order.getClassSchema(), "updated_at"))
                .apply(ParDo.of(new IdAtTimestamp())))
        .containsInAnyOrder("1@2026-11-25T11:30:00.000Z");
    pipeline.run().waitUntilFinish();
  }
}

package dev.sluice.transforms.time;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.Traced;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Makes a timestamp field of each record its event time (instead of the source's timestamp). A
 * record whose field is null keeps the source timestamp.
 */
public final class EventTimeFromField
    extends PTransform<PCollection<Traced<GenericRecord>>, PCollection<Traced<GenericRecord>>> {
  private final String field;
  private final boolean micros;

  private EventTimeFromField(String field, boolean micros) {
    super("EventTime");
    this.field = field;
    this.micros = micros;
  }

  public static EventTimeFromField of(Schema schema, String field) {
    Schema.Field f = schema.getField(field);
    checkArgument(
        f != null, "event time field '%s' is not a field of schema %s", field, schema.getName());
    LogicalType logical = AvroTypes.nonNull(f.schema()).getLogicalType();
    checkArgument(
        logical instanceof LogicalTypes.TimestampMillis
            || logical instanceof LogicalTypes.TimestampMicros,
        "event time field '%s' must be a timestamp, but is %s",
        field,
        f.schema());
    return new EventTimeFromField(field, logical instanceof LogicalTypes.TimestampMicros);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("eventTimeField", field))
        .add(DisplayData.item("unit", micros ? "micros" : "millis"));
  }

  @Override
  public PCollection<Traced<GenericRecord>> expand(PCollection<Traced<GenericRecord>> input) {
    return input.apply(ParDo.of(new StampFn(field, micros))).setCoder(input.getCoder());
  }

  static final class StampFn extends DoFn<Traced<GenericRecord>, Traced<GenericRecord>> {
    private final String field;
    private final boolean micros;

    StampFn(String field, boolean micros) {
      this.field = field;
      this.micros = micros;
    }

    @ProcessElement
    public void process(
        @Element Traced<GenericRecord> element, OutputReceiver<Traced<GenericRecord>> out) {
      Object value = element.value().get(field);
      if (value == null) {
        out.output(element);
        return;
      }
      long raw = ((Number) value).longValue();
      out.outputWithTimestamp(element, new Instant(micros ? Math.floorDiv(raw, 1000L) : raw));
    }

    /** Event time may lie before the source timestamp: records are re-stamped, not shifted. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE);
    }
  }
}

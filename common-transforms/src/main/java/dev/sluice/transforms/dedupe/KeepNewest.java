package dev.sluice.transforms.dedupe;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.SourceRecord;
import java.util.Comparator;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Keeps the newest version of each key within a batch (bounded) or a pane (streaming): the record
 * with the highest version field; on equal versions, the one with the later source timestamp and
 * then the greater origin, so the choice never depends on arrival order. The others are counted as
 * {@code filtered} ({@code superseded}).
 */
public final class KeepNewest
    extends PTransform<
        PCollection<KV<SourceRecord, GenericRecord>>,
        PCollection<KV<SourceRecord, GenericRecord>>> {
  private final Schema schema;
  private final List<String> keyFields;
  private final String versionField;
  private final String pipeline;

  private KeepNewest(Schema schema, List<String> keyFields, String versionField, String pipeline) {
    super("KeepNewest");
    this.schema = schema;
    this.keyFields = keyFields;
    this.versionField = versionField;
    this.pipeline = pipeline;
  }

  public static KeepNewest byKey(
      Schema schema, List<String> keyFields, String versionField, String pipeline) {
    for (String key : keyFields) {
      checkArgument(
          schema.getField(key) != null,
          "key field '%s' is not a field of schema %s",
          key,
          schema.getName());
    }
    checkArgument(
        schema.getField(versionField) != null,
        "version field '%s' is not a field of schema %s",
        versionField,
        schema.getName());
    return new KeepNewest(schema, List.copyOf(keyFields), versionField, pipeline);
  }

  @Override
  public PCollection<KV<SourceRecord, GenericRecord>> expand(
      PCollection<KV<SourceRecord, GenericRecord>> input) {
    KvCoder<SourceRecord, GenericRecord> elementCoder =
        KvCoder.of(SourceRecord.SourceRecordCoder.of(), AvroCoder.of(schema));
    return input
        .apply("KeyBy", ParDo.of(new KeyFn(keyFields)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), elementCoder))
        .apply("Group", GroupByKey.create())
        .apply("Newest", ParDo.of(new NewestFn(versionField, Accounting.of(pipeline))))
        .setCoder(elementCoder);
  }

  static final class KeyFn
      extends DoFn<KV<SourceRecord, GenericRecord>, KV<String, KV<SourceRecord, GenericRecord>>> {
    private final List<String> keyFields;

    KeyFn(List<String> keyFields) {
      this.keyFields = keyFields;
    }

    @ProcessElement
    public void process(
        @Element KV<SourceRecord, GenericRecord> element,
        OutputReceiver<KV<String, KV<SourceRecord, GenericRecord>>> out) {
      StringBuilder key = new StringBuilder();
      for (String field : keyFields) {
        Object value = element.getValue().get(field);
        String text = String.valueOf(value);
        key.append(text.length()).append(':').append(text).append('|');
      }
      out.output(KV.of(key.toString(), element));
    }
  }

  static final class NewestFn
      extends DoFn<
          KV<String, Iterable<KV<SourceRecord, GenericRecord>>>, KV<SourceRecord, GenericRecord>> {
    private final String versionField;
    private final Accounting accounting;

    NewestFn(String versionField, Accounting accounting) {
      this.versionField = versionField;
      this.accounting = accounting;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<KV<SourceRecord, GenericRecord>>> group,
        OutputReceiver<KV<SourceRecord, GenericRecord>> out) {
      Comparator<KV<SourceRecord, GenericRecord>> newer =
          Comparator.<KV<SourceRecord, GenericRecord>>comparingLong(
                  kv -> ((Number) kv.getValue().get(versionField)).longValue())
              .thenComparingLong(
                  kv ->
                      kv.getKey().sourceTimestamp() == null
                          ? Long.MIN_VALUE
                          : kv.getKey().sourceTimestamp())
              .thenComparing(kv -> kv.getKey().origin());
      KV<SourceRecord, GenericRecord> best = null;
      for (KV<SourceRecord, GenericRecord> candidate : group.getValue()) {
        if (best == null) {
          best = candidate;
        } else {
          accounting.filtered("superseded");
          if (newer.compare(candidate, best) > 0) {
            best = candidate;
          }
        }
      }
      out.output(best);
    }
  }
}

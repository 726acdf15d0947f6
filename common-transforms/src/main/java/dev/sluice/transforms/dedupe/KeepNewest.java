package dev.sluice.transforms.dedupe;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.SourceRecord;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
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
 *
 * <p>Records are grouped by a hash shard of their key ({@link #withShards}), not by the key itself,
 * and the newest per key is kept within each shard's group: a runner then handles a few large
 * groups instead of one tiny group per key (the Direct runner makes a bundle, and Flink a timer,
 * per group), and the sink receives full batches. A group holds about (records / shards) distinct
 * keys in memory.
 */
public final class KeepNewest
    extends PTransform<
        PCollection<KV<SourceRecord, GenericRecord>>,
        PCollection<KV<SourceRecord, GenericRecord>>> {
  private final Schema schema;
  private final List<String> keyFields;
  private final String versionField;
  private final String pipeline;
  private final int shards;

  private KeepNewest(
      Schema schema, List<String> keyFields, String versionField, String pipeline, int shards) {
    super("KeepNewest");
    this.schema = schema;
    this.keyFields = keyFields;
    this.versionField = versionField;
    this.pipeline = pipeline;
    this.shards = shards;
  }

  /** How many groups records are spread over (default 256). */
  public KeepNewest withShards(int shards) {
    checkArgument(shards >= 1, "shards must be >= 1, but was %s", shards);
    return new KeepNewest(schema, keyFields, versionField, pipeline, shards);
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
    return new KeepNewest(schema, List.copyOf(keyFields), versionField, pipeline, 256);
  }

  @Override
  public PCollection<KV<SourceRecord, GenericRecord>> expand(
      PCollection<KV<SourceRecord, GenericRecord>> input) {
    KvCoder<SourceRecord, GenericRecord> elementCoder =
        KvCoder.of(SourceRecord.SourceRecordCoder.of(), AvroCoder.of(schema));
    return input
        .apply("KeyBy", ParDo.of(new KeyFn(keyFields, shards)))
        .setCoder(KvCoder.of(VarIntCoder.of(), KvCoder.of(StringUtf8Coder.of(), elementCoder)))
        .apply("Group", GroupByKey.create())
        .apply("Newest", ParDo.of(new NewestFn(versionField, Accounting.of(pipeline))))
        .setCoder(elementCoder);
  }

  static final class KeyFn
      extends DoFn<
          KV<SourceRecord, GenericRecord>,
          KV<Integer, KV<String, KV<SourceRecord, GenericRecord>>>> {
    private final List<String> keyFields;
    private final int shards;

    KeyFn(List<String> keyFields, int shards) {
      this.keyFields = keyFields;
      this.shards = shards;
    }

    @ProcessElement
    public void process(
        @Element KV<SourceRecord, GenericRecord> element,
        OutputReceiver<KV<Integer, KV<String, KV<SourceRecord, GenericRecord>>>> out) {
      StringBuilder key = new StringBuilder();
      for (String field : keyFields) {
        Object value = element.getValue().get(field);
        String text = String.valueOf(value);
        key.append(text.length()).append(':').append(text).append('|');
      }
      String text = key.toString();
      out.output(KV.of(Math.floorMod(text.hashCode(), shards), KV.of(text, element)));
    }
  }

  static final class NewestFn
      extends DoFn<
          KV<Integer, Iterable<KV<String, KV<SourceRecord, GenericRecord>>>>,
          KV<SourceRecord, GenericRecord>> {
    private final String versionField;
    private final Accounting accounting;

    NewestFn(String versionField, Accounting accounting) {
      this.versionField = versionField;
      this.accounting = accounting;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<KV<String, KV<SourceRecord, GenericRecord>>>> group,
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
      Map<String, KV<SourceRecord, GenericRecord>> best = new HashMap<>();
      long superseded = 0;
      for (KV<String, KV<SourceRecord, GenericRecord>> candidate : group.getValue()) {
        KV<SourceRecord, GenericRecord> current = best.get(candidate.getKey());
        if (current == null) {
          best.put(candidate.getKey(), candidate.getValue());
        } else {
          superseded++;
          if (newer.compare(candidate.getValue(), current) > 0) {
            best.put(candidate.getKey(), candidate.getValue());
          }
        }
      }
      accounting.filtered("superseded", superseded);
      best.values().forEach(out::output);
    }
  }
}

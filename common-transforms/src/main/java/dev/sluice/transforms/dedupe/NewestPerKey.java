package dev.sluice.transforms.dedupe;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.avro.generic.GenericRecord;

/**
 * Keeps, within one batch, the records that carry the newest version of their key; the others are
 * superseded. Records whose version equals the newest are all kept: which of them wins is decided
 * where the rows are written, by a rule that does not depend on order (see the sink's tie-break),
 * so the same events converge to the same row whatever batches they fall into.
 *
 * <p>No shuffle: a batch is what one worker holds, so this runs where the records already are, in
 * constant memory per batch; the sink's version guard orders keys across batches.
 */
public final class NewestPerKey implements Serializable {
  private final List<String> keyFields;
  private final String versionField;

  private NewestPerKey(List<String> keyFields, String versionField) {
    this.keyFields = keyFields;
    this.versionField = versionField;
  }

  public static NewestPerKey of(List<String> keyFields, String versionField) {
    checkArgument(
        keyFields != null && !keyFields.isEmpty(), "keyFields must name at least one field");
    checkArgument(versionField != null, "versionField must be set");
    return new NewestPerKey(List.copyOf(keyFields), versionField);
  }

  /**
   * What a batch keeps.
   *
   * @param newest the records with their key's newest version, in batch order
   * @param superseded how many records a newer version of their key replaced
   * @param keys how many distinct keys the batch has (fewer than {@code newest} when versions tie)
   */
  public record Kept<T>(List<T> newest, long superseded, int keys) {
    /** Whether each key is in {@code newest} once. */
    public boolean unique() {
      return newest.size() == keys;
    }
  }

  /** The batch's records with their key's newest version (ties all kept, in batch order). */
  public <T> Kept<T> keep(List<T> batch, Function<T, GenericRecord> record) {
    Map<List<Object>, Long> newestVersion = new HashMap<>();
    List<List<Object>> keys = new ArrayList<>(batch.size());
    List<Long> versions = new ArrayList<>(batch.size());
    for (T element : batch) {
      GenericRecord r = record.apply(element);
      List<Object> key = new ArrayList<>(keyFields.size());
      for (String field : keyFields) {
        Object value = r.get(field);
        key.add(value instanceof CharSequence text ? text.toString() : value);
      }
      long version = ((Number) r.get(versionField)).longValue();
      keys.add(key);
      versions.add(version);
      newestVersion.merge(key, version, Math::max);
    }
    List<T> kept = new ArrayList<>(newestVersion.size());
    for (int i = 0; i < batch.size(); i++) {
      if (versions.get(i) == newestVersion.get(keys.get(i)).longValue()) {
        kept.add(batch.get(i));
      }
    }
    return new Kept<>(kept, batch.size() - kept.size(), newestVersion.size());
  }
}

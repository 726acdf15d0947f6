package dev.sluice.transforms.pii;

import java.io.Serializable;
import org.apache.beam.sdk.transforms.SerializableFunction;

/**
 * Where a run's {@link PiiKeys} come from: a reference ({@code file:…} or {@code env:…}), resolved
 * where the keys are used (on the workers), so that the keys never sit in a serialized function, a
 * graph or a template. Resolved keys are kept by the instance that read them.
 */
public final class PiiKeysSource implements Serializable {
  private final String reference;
  private final SerializableFunction<String, String> resolve;
  private transient volatile PiiKeys resolved;

  private PiiKeysSource(String reference, SerializableFunction<String, String> resolve) {
    this.reference = reference;
    this.resolve = resolve;
  }

  /**
   * The keys {@code reference} names, read with {@code resolve} (reference → the keyset's JSON).
   */
  public static PiiKeysSource of(String reference, SerializableFunction<String, String> resolve) {
    return new PiiKeysSource(reference, resolve);
  }

  /** The reference, safe to print. */
  public String reference() {
    return reference;
  }

  /** The keys, read once per instance (a worker reads them once per deserialized step). */
  public PiiKeys keys() {
    PiiKeys keys = resolved;
    if (keys == null) {
      keys = PiiKeys.parse(resolve.apply(reference), reference);
      resolved = keys;
    }
    return keys;
  }

  @Override
  public String toString() {
    return reference;
  }
}

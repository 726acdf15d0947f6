package dev.sluice.transforms.pii;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.PiiPolicy;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * A contract's personal-data policies ({@link PiiPolicy}) with the keys to apply them: turns a
 * parsed record into the record the pipeline publishes (right after parsing, before rules,
 * transform or sink), and seals dead letters so that none holds personal data in clear.
 */
public final class Pii implements Serializable {
  private final String contract;
  private final LinkedHashMap<String, PiiPolicy> policies;
  private final PiiKeysSource keys;
  private transient Schema published;

  private Pii(String contract, Map<String, PiiPolicy> policies, PiiKeysSource keys) {
    this.contract = contract;
    this.policies = new LinkedHashMap<>(policies);
    this.keys = keys;
  }

  /**
   * The policies of {@code schema} with {@code keys}; null when the schema holds no personal data.
   *
   * @throws IllegalArgumentException when it does and no keys are given, naming the fields and the
   *     option that gives them
   */
  public static @Nullable Pii of(Schema schema, @Nullable PiiKeysSource keys) {
    Map<String, PiiPolicy> policies = PiiPolicy.of(schema);
    if (policies.isEmpty()) {
      return null;
    }
    if (keys == null) {
      throw new IllegalArgumentException(
          "Schema "
              + schema.getName()
              + " v"
              + dev.sluice.schemas.Schemas.version(schema)
              + " marks personal data ("
              + PiiPolicy.summary(policies)
              + "): --piiKeyset=file:<path>|env:<NAME> is required, to apply the policies and to"
              + " seal the dead letters, which would otherwise hold them in clear (make a keyset"
              + " with: sluice pii-keyset --output=<file>)");
    }
    return new Pii(schema.toString(), policies, keys);
  }

  public Map<String, PiiPolicy> policies() {
    return policies;
  }

  public PiiKeysSource keys() {
    return keys;
  }

  /** The schema of the records {@link #apply} gives: the parsed one without its dropped fields. */
  public Schema published() {
    if (published == null) {
      published = PiiPolicy.published(new Schema.Parser().parse(contract));
    }
    return published;
  }

  /** The record with each policy applied: tokens, hashes, masks, and dropped fields left out. */
  public GenericRecord apply(GenericRecord parsed) {
    PiiKeys k = keys.keys();
    Schema schema = published();
    GenericData.Record out = new GenericData.Record(schema);
    for (Schema.Field field : schema.getFields()) {
      Object value = parsed.get(field.name());
      PiiPolicy policy = policies.get(field.name());
      if (policy != null && value != null) {
        String text = value.toString();
        value =
            switch (policy) {
              case token -> k.token(text);
              case hash -> k.hash(text);
              case redact -> PiiPolicy.MASK;
              case drop -> null;
            };
      }
      out.put(field.name(), value);
    }
    return out;
  }

  /**
   * The dead letter with its payload encrypted ({@code payload_encryption = tink-aead}), its
   * preview showing the payload with the personal fields redacted (or nothing, when they cannot be
   * located in it), and the values of those fields masked in its error message and stack trace. A
   * dead letter sealed already is returned as it is.
   */
  public DeadLetter seal(DeadLetter deadLetter) {
    if (deadLetter.getPayloadEncryption() != null) {
      return deadLetter;
    }
    byte[] payload = bytes(deadLetter.getPayload());
    byte[] header =
        deadLetter.getPayloadHeader() == null ? null : bytes(deadLetter.getPayloadHeader());
    PiiRedaction.Redacted redacted = PiiRedaction.redact(payload, header, policies.keySet());
    return DeadLetter.newBuilder(deadLetter)
        .setPayload(ByteBuffer.wrap(keys.keys().seal(payload)))
        .setPayloadEncryption(PiiKeys.SEALED)
        .setPayloadPreview(redacted.preview())
        .setErrorMessage(redacted.scrub(deadLetter.getErrorMessage().toString()))
        .setStackTrace(
            deadLetter.getStackTrace() == null || !redacted.located()
                ? null
                : redacted.scrub(deadLetter.getStackTrace().toString()))
        .build();
  }

  /** The original payload of a dead letter, opened with these keys when it is sealed. */
  public static byte[] payload(DeadLetter deadLetter, @Nullable PiiKeysSource keys) {
    byte[] payload = bytes(deadLetter.getPayload());
    if (deadLetter.getPayloadEncryption() == null) {
      return payload;
    }
    if (!PiiKeys.SEALED.contentEquals(deadLetter.getPayloadEncryption())) {
      throw new IllegalArgumentException(
          "dead letter "
              + deadLetter.getOrigin()
              + " is sealed with unknown payload_encryption '"
              + deadLetter.getPayloadEncryption()
              + "'");
    }
    if (keys == null) {
      throw new IllegalArgumentException(
          "dead letter "
              + deadLetter.getOrigin()
              + " is sealed (its contract holds personal data): give the keyset that sealed it"
              + " with --piiKeyset=file:<path>|env:<NAME>");
    }
    return keys.keys().open(payload);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }
}

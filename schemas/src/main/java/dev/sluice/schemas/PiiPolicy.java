package dev.sluice.schemas;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * What a pipeline does with a field of personal data, declared in the contract as the field's
 * {@code "sluice.pii"} property and applied right after parsing, before rules, transform or sink:
 *
 * <ul>
 *   <li>{@code token}: deterministic encryption (Tink AES-SIV): equal values give equal tokens, so
 *       joins still work, and {@code sluice detokenize} recovers the value with the keyset;
 *   <li>{@code hash}: a keyed HMAC-SHA256, which cannot be reversed;
 *   <li>{@code redact}: a fixed mask, {@value #MASK};
 *   <li>{@code drop}: the field is removed from what the pipeline publishes.
 * </ul>
 *
 * A policy is part of the contract: a released version is never edited, so a field's policy changes
 * only with a new version (checked by the build against {@code history/RELEASED}).
 */
public enum PiiPolicy {
  token,
  hash,
  redact,
  drop;

  /** The field property that declares a policy. */
  public static final String PROPERTY = "sluice.pii";

  /** What {@link #redact} puts in place of a value. */
  public static final String MASK = "***";

  /** How the run report and lineage describe it. */
  public String describe() {
    return switch (this) {
      case token -> "tokenized (deterministic AES-SIV, reversible with the keyset)";
      case hash -> "hashed (keyed HMAC-SHA256, irreversible)";
      case redact -> "redacted (replaced by " + MASK + ")";
      case drop -> "dropped (not published)";
    };
  }

  /**
   * The policies a schema declares, by field in schema order; empty when it holds no personal data.
   *
   * @throws IllegalArgumentException naming the field whose policy is unknown or does not suit its
   *     type ({@code token}, {@code hash} and {@code redact} give strings, so they need a string
   *     field, optional or not)
   */
  public static Map<String, PiiPolicy> of(Schema schema) {
    Map<String, PiiPolicy> policies = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Schema.Field field : schema.getFields()) {
      Object declared = field.getObjectProp(PROPERTY);
      if (declared == null) {
        continue;
      }
      PiiPolicy policy;
      try {
        policy = PiiPolicy.valueOf(String.valueOf(declared).toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        problems.add(
            "field '"
                + field.name()
                + "' declares unknown "
                + PROPERTY
                + " '"
                + declared
                + "' (one of token, hash, redact, drop)");
        continue;
      }
      if (policy != drop && !isString(field.schema())) {
        problems.add(
            "field '"
                + field.name()
                + "' is "
                + field.schema()
                + ", but "
                + PROPERTY
                + " '"
                + policy
                + "' gives a string: use it on string fields, or drop");
        continue;
      }
      policies.put(field.name(), policy);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "Schema " + schema.getFullName() + ": " + String.join("; ", problems));
    }
    return policies;
  }

  /**
   * {@code email=token,name=redact}, or empty: how manifests and snapshot summaries record them.
   */
  public static String summary(Map<String, PiiPolicy> policies) {
    StringBuilder out = new StringBuilder();
    policies.forEach(
        (f, p) -> out.append(out.length() == 0 ? "" : ",").append(f).append('=').append(p));
    return out.toString();
  }

  /**
   * The schema a pipeline publishes for a contract: the same, without its {@link #drop} fields
   * (fields keep their properties, the policy included, so sinks and lineage still see it).
   */
  public static Schema published(Schema contract) {
    Map<String, PiiPolicy> policies = of(contract);
    if (!policies.containsValue(drop)) {
      return contract;
    }
    List<Schema.Field> kept = new ArrayList<>();
    for (Schema.Field field : contract.getFields()) {
      if (policies.get(field.name()) != drop) {
        Schema.Field copy = new Schema.Field(field, field.schema());
        kept.add(copy);
      }
    }
    Schema out =
        Schema.createRecord(
            contract.getName(), contract.getDoc(), contract.getNamespace(), false, kept);
    for (Map.Entry<String, Object> prop : contract.getObjectProps().entrySet()) {
      out.addProp(prop.getKey(), prop.getValue());
    }
    return out;
  }

  private static boolean isString(Schema schema) {
    if (schema.getType() == Schema.Type.STRING) {
      return true;
    }
    if (schema.getType() != Schema.Type.UNION) {
      return false;
    }
    boolean string = false;
    for (Schema branch : schema.getTypes()) {
      if (branch.getType() == Schema.Type.STRING) {
        string = true;
      } else if (branch.getType() != Schema.Type.NULL) {
        return false;
      }
    }
    return string;
  }
}

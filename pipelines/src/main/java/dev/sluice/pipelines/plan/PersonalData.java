package dev.sluice.pipelines.plan;

import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.secrets.Secrets;
import dev.sluice.pipelines.options.SchemaOptions;
import dev.sluice.schemas.PiiPolicy;
import dev.sluice.transforms.pii.Pii;
import dev.sluice.transforms.pii.PiiKeysSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.Schema;

/**
 * A run's personal-data keys ({@code --piiKeyset}), checked while planning: the reference is
 * confined like a password's, and the keyset is read once so that a missing or wrong one fails
 * before anything is read. The plan carries the reference only; workers read the keys themselves.
 */
public final class PersonalData {
  static final String OPTION = "piiKeyset";

  private PersonalData() {}

  /**
   * The keys of {@code --piiKeyset}, or null when it is not given.
   *
   * @throws IllegalArgumentException naming the option when the reference is not allowed or the
   *     keyset cannot be read
   */
  public static @Nullable PiiKeysSource keys(SchemaOptions options) {
    return keys(options.getPiiKeyset());
  }

  /** The same for a reference given some other way (a command's own flag). */
  public static @Nullable PiiKeysSource keys(@Nullable String reference) {
    if (reference == null) {
      return null;
    }
    Secrets.checkReference(OPTION, reference);
    PiiKeysSource source = PiiKeysSource.of(reference, r -> Secrets.resolve(OPTION, r));
    try {
      source.keys();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--" + OPTION + "=" + reference + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "--" + OPTION + "=" + reference + " cannot be read: " + e.getMessage(), e);
    }
    return source;
  }

  /**
   * The keys a run over {@code contract} needs: those of the options when the contract marks
   * personal data (refused without them), else none.
   */
  public static @Nullable PiiKeysSource forContract(Schema contract, SchemaOptions options) {
    PiiKeysSource keys = keys(options);
    return Pii.of(contract, keys) == null ? null : keys;
  }

  /**
   * The sink's dataset with the columns a personal-data policy produced in its column lineage, each
   * from its input field through a masking transformation that names the policy (OpenLineage's
   * {@code masking}); a column lineage the sink has already (a transform's) gets the same on the
   * input fields that are personal data.
   */
  public static LineageDataset withColumnLineage(
      LineageDataset sink, LineageDataset input, Schema contract) {
    Map<String, PiiPolicy> policies = PiiPolicy.of(contract);
    if (policies.isEmpty()) {
      return sink;
    }
    Map<String, List<LineageDataset.Field>> columns = new LinkedHashMap<>();
    if (sink.columns() != null) {
      sink.columns()
          .forEach(
              (column, sources) ->
                  columns.put(
                      column,
                      sources.stream()
                          .map(
                              f ->
                                  f.namespace().equals(input.namespace())
                                          && f.name().equals(input.name())
                                          && policies.containsKey(f.field())
                                      ? masked(input, f.field(), policies.get(f.field()))
                                      : f)
                          .toList()));
    } else {
      Schema published = sink.schema() == null ? null : new Schema.Parser().parse(sink.schema());
      policies.forEach(
          (field, policy) -> {
            if (policy != PiiPolicy.drop
                && (published == null || published.getField(field) != null)) {
              columns.put(field, List.of(masked(input, field, policy)));
            }
          });
    }
    return sink.withColumnLineage(columns);
  }

  private static LineageDataset.Field masked(LineageDataset input, String field, PiiPolicy policy) {
    return new LineageDataset.Field(
        input.namespace(), input.name(), field, "sluice.pii " + policy + ": " + policy.describe());
  }

  /** Which policy applied to which field, for reports: {@code email -> token (…)}. */
  public static Map<String, String> applied(Schema contract) {
    Map<String, String> out = new LinkedHashMap<>();
    PiiPolicy.of(contract).forEach((field, policy) -> out.put(field, policy.name()));
    return out;
  }
}

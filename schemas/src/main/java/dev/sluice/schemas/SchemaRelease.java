package dev.sluice.schemas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import org.apache.avro.Schema;

/**
 * The record of what was released: one line per released version, {@code <dataset> v<n>
 * sha256=<hex> pii=<field=policy,...>}, kept in {@code history/RELEASED}. A released version is
 * never edited; the build compares each history file with its line, and names a personal-data
 * policy changed in place (tokenizing or dropping a released field without a new version) before
 * any other edit.
 */
public final class SchemaRelease {
  private SchemaRelease() {}

  /** The fingerprint of everything a version says: fields, types, defaults and properties. */
  public static String fingerprint(Schema schema) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(schema.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The line that records a released version. */
  public static String line(String dataset, int version, Schema schema) {
    return dataset
        + " v"
        + version
        + " sha256="
        + fingerprint(schema)
        + " pii="
        + PiiPolicy.summary(PiiPolicy.of(schema));
  }

  /**
   * What is wrong between a dataset's history and the recorded releases ({@code released}: the
   * lines of {@code history/RELEASED}); empty when every version is recorded as it is.
   */
  public static List<String> violations(
      String dataset, SortedMap<Integer, Schema> versions, List<String> released) {
    Map<Integer, String[]> recorded = new LinkedHashMap<>();
    for (String line : released) {
      String[] parts = line.strip().split(" ");
      if (parts.length == 4 && parts[0].equals(dataset) && parts[1].startsWith("v")) {
        recorded.put(Integer.parseInt(parts[1].substring(1)), parts);
      }
    }
    List<String> out = new ArrayList<>();
    int next = versions.lastKey() + 1;
    for (Map.Entry<Integer, Schema> version : versions.entrySet()) {
      String file = "history/" + dataset + "/v" + version.getKey() + ".avsc";
      String[] parts = recorded.get(version.getKey());
      if (parts == null) {
        out.add(
            file
                + " is not recorded as released: add this line to history/RELEASED when it is: "
                + line(dataset, version.getKey(), version.getValue()));
        continue;
      }
      if (parts[2].equals("sha256=" + fingerprint(version.getValue()))) {
        continue;
      }
      List<String> changed = policyChanges(parts[3].substring("pii=".length()), version.getValue());
      if (!changed.isEmpty()) {
        out.add(
            file
                + " changes the personal-data policy of released field(s) "
                + String.join(", ", changed)
                + " without a new version: a released version is never edited; release the"
                + " change as v"
                + next);
      } else {
        out.add(
            file
                + " was edited after its release (its fingerprint is not the one recorded in"
                + " history/RELEASED): a released version is never edited; release the change as v"
                + next);
      }
    }
    return out;
  }

  private static List<String> policyChanges(String recorded, Schema now) {
    Map<String, String> before = new LinkedHashMap<>();
    for (String pair : recorded.split(",")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        before.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
    }
    Map<String, String> after = new LinkedHashMap<>();
    PiiPolicy.of(now).forEach((f, p) -> after.put(f, p.name()));
    Set<String> fields = new LinkedHashSet<>(before.keySet());
    fields.addAll(after.keySet());
    List<String> changed = new ArrayList<>();
    for (String field : fields) {
      String was = before.getOrDefault(field, "none");
      String is = after.getOrDefault(field, "none");
      if (!was.equals(is)) {
        changed.add("'" + field + "' (" + was + " → " + is + ")");
      }
    }
    return changed;
  }
}

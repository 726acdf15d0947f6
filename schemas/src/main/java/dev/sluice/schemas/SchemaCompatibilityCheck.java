package dev.sluice.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * Checks a schema's versions against the compatibility mode its newest version declares in {@code
 * sluice.compatibility}, with Avro's own {@link SchemaCompatibility}:
 *
 * <ul>
 *   <li>BACKWARD (default): a reader of the new version reads data written with the previous one;
 *   <li>FORWARD: a reader of the previous version reads data written with the new one;
 *   <li>FULL: both;
 *   <li>{@code *_TRANSITIVE}: the same against every earlier version, not only the previous one.
 * </ul>
 *
 * Each violation names the schema, the versions, the field and the rule broken.
 */
public final class SchemaCompatibilityCheck {
  /** The compatibility modes a schema may declare. */
  public enum Mode {
    BACKWARD,
    FORWARD,
    FULL,
    BACKWARD_TRANSITIVE,
    FORWARD_TRANSITIVE,
    FULL_TRANSITIVE;

    boolean backward() {
      return this != FORWARD && this != FORWARD_TRANSITIVE;
    }

    boolean forward() {
      return this != BACKWARD && this != BACKWARD_TRANSITIVE;
    }

    boolean transitive() {
      return name().endsWith("_TRANSITIVE");
    }
  }

  private SchemaCompatibilityCheck() {}

  /** The mode a schema declares ({@code sluice.compatibility}), BACKWARD when it declares none. */
  public static Mode mode(Schema schema) {
    String declared = schema.getProp("sluice.compatibility");
    if (declared == null) {
      return Mode.BACKWARD;
    }
    try {
      return Mode.valueOf(declared.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Schema "
              + schema.getFullName()
              + " declares unknown sluice.compatibility '"
              + declared
              + "'");
    }
  }

  /** Every violation across the versions of one schema; empty when they keep their mode. */
  public static List<String> violations(String name, SortedMap<Integer, Schema> versions) {
    List<String> out = new ArrayList<>();
    List<Map.Entry<Integer, Schema>> list = new ArrayList<>(versions.entrySet());
    for (int i = 1; i < list.size(); i++) {
      Map.Entry<Integer, Schema> next = list.get(i);
      Mode mode = mode(next.getValue());
      int from = mode.transitive() ? 0 : i - 1;
      for (int j = from; j < i; j++) {
        Map.Entry<Integer, Schema> earlier = list.get(j);
        if (mode.backward()) {
          out.addAll(
              describe(
                  name,
                  mode,
                  "BACKWARD",
                  next.getKey(),
                  earlier.getKey(),
                  SchemaCompatibility.checkReaderWriterCompatibility(
                      next.getValue(), earlier.getValue())));
        }
        if (mode.forward()) {
          out.addAll(
              describe(
                  name,
                  mode,
                  "FORWARD",
                  next.getKey(),
                  earlier.getKey(),
                  SchemaCompatibility.checkReaderWriterCompatibility(
                      earlier.getValue(), next.getValue())));
        }
      }
    }
    return out;
  }

  /** {@code field 'status' } for a location like {@code /fields/4/type/symbols}, or nothing. */
  private static String fieldOf(String location, SchemaPairCompatibility result) {
    String[] parts = location.split("/");
    if (parts.length < 3 || !parts[1].equals("fields")) {
      return "";
    }
    try {
      int index = Integer.parseInt(parts[2]);
      List<Schema.Field> fields = result.getReader().getFields();
      return index < fields.size() ? "field '" + fields.get(index).name() + "' " : "";
    } catch (NumberFormatException e) {
      return "";
    }
  }

  private static List<String> describe(
      String name,
      Mode mode,
      String direction,
      int newer,
      int older,
      SchemaPairCompatibility result) {
    List<String> out = new ArrayList<>();
    for (Incompatibility incompatibility : result.getResult().getIncompatibilities()) {
      String reading =
          direction.equals("BACKWARD")
              ? "v" + newer + " cannot read data written with v" + older
              : "v" + older + " cannot read data written with v" + newer;
      out.add(
          "Schema "
              + name
              + " v"
              + newer
              + " breaks "
              + mode
              + " compatibility ("
              + reading
              + "): "
              + fieldOf(incompatibility.getLocation(), result)
              + incompatibility.getType()
              + " at "
              + incompatibility.getLocation()
              + " — "
              + incompatibility.getMessage());
    }
    return out;
  }
}

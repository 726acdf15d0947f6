package dev.sluice.schemas;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;

/**
 * The catalog of Sluice's dataset schemas, looked up by the name users pass in {@code --schema=}.
 *
 * <p>Each schema carries its contract version in the {@code sluice.version} property; the dead
 * letters record it so a replay knows which version a payload was checked against.
 */
public final class Schemas {

  private static final Map<String, Schema> DATASETS = new LinkedHashMap<>();

  static {
    register(Order.getClassSchema());
    register(Customer.getClassSchema());
  }

  private Schemas() {}

  private static void register(Schema schema) {
    DATASETS.put(schema.getName(), schema);
  }

  /** Names accepted by {@link #byName}, e.g. {@code Order}. */
  public static List<String> names() {
    return List.copyOf(DATASETS.keySet());
  }

  /**
   * The current version of the named dataset schema.
   *
   * @throws IllegalArgumentException naming the unknown schema and the known ones
   */
  public static Schema byName(String name) {
    Objects.requireNonNull(name, "schema name");
    Schema schema = DATASETS.get(name);
    if (schema == null) {
      throw new IllegalArgumentException(
          "Unknown schema '" + name + "'; known schemas: " + String.join(", ", names()));
    }
    return schema;
  }

  /** The contract version a schema declares in its {@code sluice.version} property, or 1. */
  public static int version(Schema schema) {
    Object version = schema.getObjectProp("sluice.version");
    return version instanceof Number ? ((Number) version).intValue() : 1;
  }
}

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
  private static final Map<String, String> HISTORY = new LinkedHashMap<>();

  static {
    register(Order.getClassSchema(), "order");
    register(Customer.getClassSchema(), "customer");
    register(OrderAmount.getClassSchema(), "order_amount");
    register(OrderPrice.getClassSchema(), "order_price");
  }

  private Schemas() {}

  private static void register(Schema schema, String historyDir) {
    DATASETS.put(schema.getName(), schema);
    HISTORY.put(schema.getName(), historyDir);
  }

  /** The history directories of every schema, the dead-letter record's included. */
  public static Map<String, String> historyDirectories() {
    Map<String, String> all = new LinkedHashMap<>(HISTORY);
    all.put(DeadLetter.getClassSchema().getName(), "dead_letter");
    return all;
  }

  /** Every released version of the named dataset schema. */
  public static SchemaHistory history(String name) {
    byName(name);
    return SchemaHistory.of(HISTORY.get(name));
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

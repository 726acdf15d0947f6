package dev.sluice.transforms.parse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * Fields the events carry and the contract lacks: how they are detected, named and typed, and how a
 * record keeps their values on its way to a sink that adds them as columns ({@code
 * --onSchemaChange=add_columns}).
 *
 * <p>An open schema is the contract plus a hidden nullable string field, {@link #EXTRA}: the parser
 * puts there, as one JSON object, the scalar fields the contract lacks, and the sink takes them out
 * as columns. A record without new fields has it null.
 */
public final class SchemaChanges {
  /** The hidden field of an open schema: a JSON object of the new fields' values, or null. */
  public static final String EXTRA = "_sluice_extra";

  /** The string set (in the pipeline's namespace) of changes seen: {@code field type origin}. */
  public static final String METRIC = "schema_changes";

  /** The counter of records that carried a field the contract lacks. */
  public static final String CHANGED_RECORDS = "schema_changed";

  /** The doc of a field a run added. */
  static final String ADDED_DOC = "Added by --onSchemaChange=add_columns";

  private static final ObjectMapper JSON = new ObjectMapper();

  private SchemaChanges() {}

  /** What a run does with a field the contract lacks. */
  public enum Policy {
    /** Stop the run (a bounded one publishes nothing). */
    fail,
    /** Dead-letter the record with reason {@code schema} (the default). */
    dead_letter,
    /** Add the field as a nullable column and write its values. */
    add_columns
  }

  /** A field the events carry and the contract lacks, with the Avro type its value suggests. */
  public record NewField(String name, String type) implements Serializable {
    /** Whether a column can be added for it: a string, number or boolean. */
    public boolean scalar() {
      return List.of("string", "long", "double", "boolean").contains(type);
    }
  }

  /**
   * A change as the run reports it: the new field, its type, and where it was first seen.
   *
   * @param origin the origin of the first record seen carrying it (topic/partition@offset, file and
   *     line)
   */
  public record Change(String field, String type, String origin) implements Serializable {
    /** The string the {@link #METRIC} string set holds. */
    public String metric() {
      return field + " " + type + " " + origin;
    }

    /** A change from its {@link #metric} string. */
    public static Change fromMetric(String value) {
      String[] parts = value.split(" ", 3);
      return new Change(
          parts[0], parts.length > 1 ? parts[1] : "?", parts.length > 2 ? parts[2] : "");
    }

    /** One line naming the change: the field, its type and the first origin. */
    public String describe(String contract) {
      return "field '"
          + field
          + "' ("
          + type
          + ") is not in schema "
          + contract
          + "; first seen at "
          + origin;
    }
  }

  /** A record's fields the contract lacks: a schema failure that names them. */
  public static final class SchemaChangeException extends RecordException {
    private final List<NewField> fields;

    SchemaChangeException(List<NewField> fields, String message) {
      super(FailureReason.SCHEMA, message);
      this.fields = List.copyOf(fields);
    }

    public List<NewField> fields() {
      return fields;
    }
  }

  /**
   * The Avro type a JSON value suggests: {@code long} for an integer, {@code double} for another
   * number, {@code boolean}, {@code string}; {@code null}, {@code record} and {@code array} for the
   * rest (no column is added for them).
   */
  public static String inferType(@Nullable JsonNode node) {
    if (node == null || node.isNull()) {
      return "null";
    }
    if (node.isIntegralNumber()) {
      return "long";
    }
    if (node.isNumber()) {
      return "double";
    }
    if (node.isBoolean()) {
      return "boolean";
    }
    if (node.isTextual()) {
      return "string";
    }
    return node.isArray() ? "array" : "record";
  }

  /** The schema with the hidden {@link #EXTRA} field at its end (once). */
  public static Schema open(Schema schema) {
    if (schema.getField(EXTRA) != null) {
      return schema;
    }
    return withFields(
        schema,
        List.of(
            new Schema.Field(
                EXTRA,
                Schema.createUnion(
                    Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
                "Fields the contract lacks, as a JSON object (for --onSchemaChange=add_columns)",
                JsonProperties.NULL_VALUE)));
  }

  /** Whether {@code schema} is open: records of it may carry new fields. */
  public static boolean isOpen(Schema schema) {
    return schema.getField(EXTRA) != null;
  }

  /** The schema without its hidden {@link #EXTRA} field. */
  public static Schema closed(Schema schema) {
    if (!isOpen(schema)) {
      return schema;
    }
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : schema.getFields()) {
      if (!f.name().equals(EXTRA)) {
        fields.add(new Schema.Field(f, f.schema()));
      }
    }
    return copy(schema, fields);
  }

  /**
   * The schema with {@code columns} (name to Avro type) added as nullable fields with default null,
   * in their order; fields it has already are kept as they are.
   */
  public static Schema withColumns(Schema schema, Map<String, String> columns) {
    List<Schema.Field> added = new ArrayList<>();
    columns.forEach(
        (name, type) -> {
          if (schema.getField(name) == null) {
            added.add(column(name, type));
          }
        });
    return added.isEmpty() ? schema : withFields(schema, added);
  }

  /** A nullable field of an Avro primitive type, default null. */
  public static Schema.Field column(String name, String type) {
    return new Schema.Field(
        name,
        Schema.createUnion(
            Schema.create(Schema.Type.NULL),
            Schema.create(Schema.Type.valueOf(type.toUpperCase(java.util.Locale.ROOT)))),
        ADDED_DOC,
        JsonProperties.NULL_VALUE);
  }

  private static Schema withFields(Schema schema, List<Schema.Field> more) {
    List<Schema.Field> fields = new ArrayList<>();
    Schema.Field extra = null;
    for (Schema.Field f : schema.getFields()) {
      if (f.name().equals(EXTRA)) {
        extra = new Schema.Field(f, f.schema());
      } else {
        fields.add(new Schema.Field(f, f.schema()));
      }
    }
    fields.addAll(more);
    if (extra != null) {
      fields.add(extra);
    }
    return copy(schema, fields);
  }

  private static Schema copy(Schema schema, List<Schema.Field> fields) {
    Schema out =
        Schema.createRecord(
            schema.getName(), schema.getDoc(), schema.getNamespace(), schema.isError(), fields);
    schema.getObjectProps().forEach(out::addProp);
    return out;
  }

  /** The new fields a record of an open schema carries, by name, in the order they came. */
  public static Map<String, JsonNode> extras(GenericRecord record) throws RecordException {
    Object extra = record.get(EXTRA);
    if (extra == null) {
      return Map.of();
    }
    try {
      JsonNode tree = JSON.readTree(extra.toString());
      Map<String, JsonNode> out = new LinkedHashMap<>();
      tree.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue()));
      return out;
    } catch (IOException e) {
      throw new RecordException(
          FailureReason.SCHEMA, "unreadable new fields: " + e.getMessage(), e);
    }
  }

  /** The JSON object {@link #EXTRA} holds for these new fields. */
  static String extraJson(Map<String, JsonNode> values) {
    ObjectNode node = JSON.createObjectNode();
    values.forEach(node::set);
    return node.toString();
  }

  /** A new field's value in the type of its column, failing as a {@code schema} dead letter. */
  public static @Nullable Object value(Schema.Field column, @Nullable JsonNode node)
      throws RecordException {
    return AvroValues.fromJson(column, node);
  }

  /**
   * What a worker throws to stop a run under {@code --onSchemaChange=fail}: an {@link
   * IllegalStateException} with {@code message}, wrapped, where Flink's runtime is on the
   * classpath, in its {@code SuppressRestartsException}, so that a streaming job fails at once
   * instead of being restarted by its restart strategy to fail again at the same record.
   */
  public static RuntimeException stop(String message) {
    IllegalStateException stop = new IllegalStateException(message);
    try {
      Class<?> suppress =
          Class.forName("org.apache.flink.runtime.execution.SuppressRestartsException");
      return (RuntimeException) suppress.getConstructor(Throwable.class).newInstance(stop);
    } catch (ReflectiveOperationException | LinkageError | ClassCastException notOnFlink) {
      return stop;
    }
  }

  /**
   * The message a run under {@code --onSchemaChange=fail} stops with: the change, and what to do.
   */
  public static String failure(Change change, String contract) {
    return "schema change: "
        + change.describe(contract)
        + ". --onSchemaChange=fail stops the run: add the field to the contract (a new version under"
        + " schemas/), or run with --onSchemaChange=dead_letter (records dead-lettered, to replay)"
        + " or add_columns (the field added as a nullable column)";
  }
}

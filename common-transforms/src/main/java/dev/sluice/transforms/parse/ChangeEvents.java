package dev.sluice.transforms.parse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.RecordFiltered;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Debezium change events, as Kafka Connect's JSON converter writes them (with the {@code
 * schema}/{@code payload} wrapper or without it), into records of a replica schema: the contract
 * schema's fields, from {@code after} for {@code c} (insert), {@code r} (snapshot read) and {@code
 * u} (update) and from {@code before} for {@code d} (delete), plus {@value #POSITION} (the event's
 * source position, e.g. {@code source.lsn}) and {@value #DELETED}.
 *
 * <p>Values are turned from Debezium's encodings into the forms {@link AvroValues} reads: decimals
 * given as bytes ({@code decimal.handling.mode=precise}: base64 of the unscaled value, the scale
 * from the event's schema or, without one, from the contract) or as text ({@code string});
 * timestamps as epoch micros ({@code MicroTimestamp}), millis ({@code Timestamp}), nanos ({@code
 * NanoTimestamp}) or ISO text ({@code ZonedTimestamp}); dates as epoch days. Without the event's
 * schema a number for a timestamp field is read as micros (Debezium's default for PostgreSQL).
 */
public final class ChangeEvents implements Serializable {
  /** The replica's column holding the source position of the change that wrote the row. */
  public static final String POSITION = "_cdc_position";

  /** The replica's column saying the row was deleted at the source (soft delete). */
  public static final String DELETED = "_cdc_deleted";

  private final List<String> positionPath;
  private final boolean preciseDecimals;

  private ChangeEvents(List<String> positionPath, boolean preciseDecimals) {
    this.positionPath = positionPath;
    this.preciseDecimals = preciseDecimals;
  }

  /**
   * @param positionField where the position is in the change event, dotted (e.g. {@code
   *     source.lsn}); it must hold an integer
   * @param preciseDecimals how decimals come in events without a schema: bytes ({@code precise}) or
   *     text
   */
  public static ChangeEvents of(String positionField, boolean preciseDecimals) {
    if (positionField == null
        || !positionField.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*")) {
      throw new IllegalArgumentException(
          "the position field is a dotted path into the change event, e.g. source.lsn, not "
              + positionField);
    }
    return new ChangeEvents(List.of(positionField.split("\\.")), preciseDecimals);
  }

  /** The contract's fields plus the position and the deleted flag. */
  public static Schema replicaSchema(Schema contract) {
    if (isReplica(contract)) {
      return contract;
    }
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field field : contract.getFields()) {
      fields.add(new Schema.Field(field, field.schema()));
    }
    if (contract.getField(POSITION) != null || contract.getField(DELETED) != null) {
      throw new IllegalArgumentException(
          "schema "
              + contract.getName()
              + " must not have the fields "
              + POSITION
              + ", "
              + DELETED);
    }
    fields.add(
        new Schema.Field(
            POSITION, Schema.create(Schema.Type.LONG), "source position of the change", null));
    fields.add(
        new Schema.Field(
            DELETED, Schema.create(Schema.Type.BOOLEAN), "deleted at the source", false));
    Schema replica =
        Schema.createRecord(
            contract.getName(), contract.getDoc(), contract.getNamespace(), false, fields);
    contract.getObjectProps().forEach(replica::addProp);
    return replica;
  }

  /** Whether {@code schema} is a replica schema already (it has both bookkeeping fields). */
  static boolean isReplica(Schema schema) {
    Schema.Field position = schema.getField(POSITION);
    Schema.Field deleted = schema.getField(DELETED);
    return position != null
        && deleted != null
        && position.schema().getType() == Schema.Type.LONG
        && deleted.schema().getType() == Schema.Type.BOOLEAN;
  }

  /** The replica record of one change event (its JSON tree). */
  GenericRecord parse(JsonNode root, Schema replica) throws RecordException, RecordFiltered {
    if (!root.isObject()) {
      throw new RecordException(FailureReason.PARSE, "a change event is a JSON object");
    }
    boolean wrapped = root.has("schema") && root.has("payload") && root.size() == 2;
    JsonNode event = wrapped ? root.get("payload") : root;
    String op = event.path("op").asText("");
    boolean delete = op.equals("d");
    if (op.equals("t")) {
      throw new RecordFiltered(
          "truncate",
          "truncate events are not applied: the replica keeps its rows (truncate it yourself if"
              + " the source's truncate should reach it)");
    }
    if (op.equals("m")) {
      throw new RecordFiltered(
          "message", "logical decoding messages (op 'm') carry no row: they are not applied");
    }
    if (!List.of("c", "r", "u", "d").contains(op)) {
      throw new RecordException(
          FailureReason.PARSE,
          "not a Debezium change event: op is "
              + (event.has("op") ? "'" + event.path("op").asText() + "'" : "missing")
              + " (expected c, r, u or d)");
    }
    String side = delete ? "before" : "after";
    JsonNode row = event.get(side);
    if (row == null || !row.isObject()) {
      throw new RecordException(
          FailureReason.PARSE, "a change event with op '" + op + "' has no '" + side + "' row");
    }
    boolean open = SchemaChanges.isOpen(replica);
    List<String> unknown = new ArrayList<>();
    List<String> named = new ArrayList<>();
    List<String> reserved = new ArrayList<>();
    row.fieldNames()
        .forEachRemaining(
            name -> {
              boolean bookkeeping =
                  name.equals(POSITION) || name.equals(DELETED) || name.equals(SchemaChanges.EXTRA);
              if (bookkeeping) {
                reserved.add(name);
              } else if (replica.getField(name) == null) {
                unknown.add(name);
              }
              if (bookkeeping || replica.getField(name) == null) {
                named.add(AvroValues.shorten(name));
              }
            });
    Map<String, JsonNode> columnSchemas =
        wrapped ? columnSchemas(root.get("schema"), side) : Map.of();
    String extra = null;
    if (reserved.isEmpty() && !unknown.isEmpty()) {
      extra = newColumns(row, unknown, columnSchemas, side, replica, open);
    } else if (!reserved.isEmpty()) {
      unknown.clear();
      unknown.addAll(named);
      // The replica is held to a reviewed contract: a column it lacks is a schema change to review,
      // never a value to drop.
      throw new RecordException(FailureReason.SCHEMA, unknownColumns(unknown, side, replica));
    }
    JsonNode position = event;
    for (String part : positionPath) {
      position = position.path(part);
    }
    if (!position.isIntegralNumber() || !position.canConvertToLong()) {
      throw new RecordException(
          FailureReason.SCHEMA,
          "the change event's position "
              + String.join(".", positionPath)
              + " is "
              + (position.isMissingNode() ? "missing" : "not an integer: " + position)
              + "");
    }
    GenericData.Record record = new GenericData.Record(replica);
    for (Schema.Field field : replica.getFields()) {
      if (field.name().equals(POSITION)) {
        record.put(field.pos(), position.longValue());
      } else if (field.name().equals(DELETED)) {
        record.put(field.pos(), delete);
      } else if (open && field.name().equals(SchemaChanges.EXTRA)) {
        record.put(field.pos(), extra);
      } else {
        JsonNode value = row.get(field.name());
        if (delete && (value == null || value.isNull()) && !AvroValues.isOptional(field.schema())) {
          // A delete's before holds the key only, unless the source has REPLICA IDENTITY FULL.
          throw new RecordException(
              FailureReason.SCHEMA,
              "field '"
                  + field.name()
                  + "': the delete carries no value for it (the source table needs REPLICA"
                  + " IDENTITY FULL for deletes to carry their row)");
        }
        record.put(
            field.pos(),
            AvroValues.fromJson(field, normalize(field, value, columnSchemas.get(field.name()))));
      }
    }
    return record;
  }

  /**
   * The row's columns the replica lacks: refused naming them (with the types their Connect schemas,
   * or else their values, give), unless the replica is open ({@link SchemaChanges#open}): then the
   * values of new string, number and boolean columns are kept as the JSON object of its hidden
   * field, and any other new column is refused.
   */
  private static @Nullable String newColumns(
      JsonNode row,
      List<String> unknown,
      Map<String, JsonNode> columnSchemas,
      String side,
      Schema replica,
      boolean open)
      throws SchemaChanges.SchemaChangeException {
    List<SchemaChanges.NewField> fields = new ArrayList<>();
    Map<String, JsonNode> kept = new java.util.LinkedHashMap<>();
    SchemaChanges.NewField refused = null;
    for (String name : unknown) {
      JsonNode value = row.get(name);
      SchemaChanges.NewField field =
          new SchemaChanges.NewField(name, connectType(columnSchemas.get(name), value));
      fields.add(field);
      if (field.type().equals("null")) {
        continue;
      }
      if (!field.scalar() && refused == null) {
        refused = field;
      }
      if (value != null && !value.isNull()) {
        kept.put(name, value);
      }
    }
    if (!open) {
      throw new SchemaChanges.SchemaChangeException(
          fields,
          unknownColumns(unknown.stream().map(AvroValues::shorten).toList(), side, replica));
    }
    if (refused != null) {
      throw new SchemaChanges.SchemaChangeException(
          fields,
          "new column '"
              + AvroValues.shorten(refused.name())
              + "' holds a "
              + refused.type()
              + ": only a string, number or boolean can be added as a column");
    }
    return kept.isEmpty() ? null : SchemaChanges.extraJson(kept);
  }

  /** Names the row's columns the replica lacks (the first ten). */
  private static String unknownColumns(List<String> unknown, String side, Schema replica) {
    return "unknown column"
        + (unknown.size() == 1 ? " '" : "s '")
        + String.join("', '", unknown.subList(0, Math.min(unknown.size(), 10)))
        + (unknown.size() > 10 ? "' and " + (unknown.size() - 10) + " more" : "'")
        + " in the event's '"
        + side
        + "' row "
        + (unknown.size() == 1 ? "is" : "are")
        + " not in schema "
        + replica.getName()
        + ": the source table has columns the contract lacks";
  }

  /**
   * The Avro type of a new column: from its Connect schema (integers are {@code long}, floats
   * {@code double}; a named semantic type, e.g. a Debezium timestamp or decimal, is its name, which
   * cannot be added), else from its value.
   */
  static String connectType(@Nullable JsonNode connect, @Nullable JsonNode value) {
    if (connect == null) {
      return SchemaChanges.inferType(value);
    }
    String name = connect.path("name").asText("");
    if (!name.isEmpty()) {
      return name;
    }
    return switch (connect.path("type").asText("")) {
      case "int8", "int16", "int32", "int64" -> "long";
      case "float32", "float64" -> "double";
      case "boolean" -> "boolean";
      case "string" -> "string";
      default -> connect.path("type").asText("unknown");
    };
  }

  /** The Connect schemas of the row's columns ({@code before} or {@code after}), by name. */
  private static Map<String, JsonNode> columnSchemas(JsonNode schema, String side) {
    Map<String, JsonNode> columns = new HashMap<>();
    for (JsonNode part : schema.path("fields")) {
      if (part.path("field").asText().equals(side)) {
        for (JsonNode column : part.path("fields")) {
          columns.put(column.path("field").asText(), column);
        }
      }
    }
    return columns;
  }

  /** A Debezium-encoded value in the form {@link AvroValues#fromJson} reads for {@code field}. */
  private @Nullable JsonNode normalize(
      Schema.Field field, @Nullable JsonNode value, @Nullable JsonNode connect)
      throws RecordException {
    if (value == null || value.isNull()) {
      return value;
    }
    Schema type = AvroValues.nonNull(field.schema());
    LogicalType logical = type.getLogicalType();
    String semantic = connect == null ? "" : connect.path("name").asText("");
    if (logical instanceof LogicalTypes.Decimal decimal) {
      boolean bytes =
          connect != null
              ? connect.path("type").asText().equals("bytes")
              : preciseDecimals && value.isTextual();
      if (bytes && value.isTextual()) {
        int scale =
            connect != null && connect.path("parameters").has("scale")
                ? connect.path("parameters").path("scale").asInt()
                : decimal.getScale();
        try {
          byte[] unscaled = Base64.getDecoder().decode(value.asText());
          return DecimalNode.valueOf(new BigDecimal(new BigInteger(unscaled), scale));
        } catch (IllegalArgumentException | ArithmeticException e) {
          throw new RecordException(
              FailureReason.SCHEMA,
              "field '"
                  + field.name()
                  + "': expected a decimal as base64 bytes but was '"
                  + value.asText()
                  + "'");
        }
      }
      return value;
    }
    boolean timestamp =
        logical instanceof LogicalTypes.TimestampMillis
            || logical instanceof LogicalTypes.TimestampMicros
            || logical instanceof LogicalTypes.LocalTimestampMillis
            || logical instanceof LogicalTypes.LocalTimestampMicros;
    if (timestamp && value.isIntegralNumber()) {
      long n = value.longValue();
      Instant instant =
          switch (semantic) {
            case "io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp" ->
                Instant.ofEpochMilli(n);
            case "io.debezium.time.NanoTimestamp" ->
                Instant.ofEpochSecond(
                    Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
            default ->
                Instant.ofEpochSecond(
                    Math.floorDiv(n, 1_000_000L), Math.floorMod(n, 1_000_000L) * 1000);
          };
      return TextNode.valueOf(instant.toString());
    }
    if (logical instanceof LogicalTypes.Date && value.isIntegralNumber()) {
      return TextNode.valueOf(LocalDate.ofEpochDay(value.longValue()).toString());
    }
    if (type.getType() == Schema.Type.STRING && !value.isTextual() && !value.isContainerNode()) {
      return TextNode.valueOf(value.asText());
    }
    if (type.getType() == Schema.Type.STRING && value.isContainerNode()) {
      return TextNode.valueOf(value.toString());
    }
    return value;
  }
}

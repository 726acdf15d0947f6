package dev.sluice.transforms.parse;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.RecordFiltered;
import dev.sluice.transforms.core.SourceRecord;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Parses one record's bytes into a {@link GenericRecord} of a schema: strict UTF-8 decoding, then
 * CSV (against the file's header) or JSON, then the schema's types. Each failure is a {@link
 * RecordException} naming its reason: decode, parse or schema.
 */
public final class RecordParser implements Serializable {

  private final String schemaJson;
  private final InputFormat format;
  private final List<String> writerSchemasJson;
  private final String defaultWriterJson;
  private final @Nullable ChangeEvents changes;
  private transient Map<Long, Schema> writersByFingerprint;
  private transient Schema defaultWriter;
  private transient Schema schema;
  private transient ObjectMapper json;
  private transient Map<ByteBuffer, Header> headers;

  private RecordParser(
      Schema schema, InputFormat format, List<Schema> writers, Schema defaultWriter) {
    this(schema, format, writers, defaultWriter, null);
  }

  private RecordParser(
      Schema schema,
      InputFormat format,
      List<Schema> writers,
      Schema defaultWriter,
      @Nullable ChangeEvents changes) {
    this.changes = changes;
    this.schemaJson = schema.toString();
    this.format = format;
    this.writerSchemasJson = writers.stream().map(Schema::toString).toList();
    this.defaultWriterJson = defaultWriter.toString();
    AvroValues.checkSupported(schema);
  }

  /**
   * A parser into {@code schema}. Avro binary may have been written with any released version of
   * the schema: values in Avro's single-object encoding name theirs by fingerprint; plain binary
   * values are read as written with the current version (see {@link #withWriterVersion}).
   */
  public static RecordParser of(Schema schema, InputFormat format) {
    List<Schema> writers = releasedVersions(schema);
    return new RecordParser(schema, format, writers, schema);
  }

  /**
   * A parser of Debezium change events into the replica records of {@code contract} ({@link
   * ChangeEvents#replicaSchema}).
   */
  public static RecordParser ofChanges(Schema contract, ChangeEvents changes) {
    Schema replica = ChangeEvents.replicaSchema(contract);
    return new RecordParser(replica, InputFormat.DEBEZIUM, List.of(replica), replica, changes);
  }

  /** Why an empty message is filtered (a tombstone of a change topic, a blank line). */
  public String emptyCause() {
    return format.emptyCause();
  }

  /** Plain Avro binary values were written with this released version of the schema. */
  public RecordParser withWriterVersion(int version) {
    Schema writer =
        releasedVersions(schema()).stream()
            .filter(s -> Schemas.version(s) == version)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "--writerSchemaVersion="
                            + version
                            + ": schema "
                            + schema().getName()
                            + " has no such released version"));
    return new RecordParser(schema(), format, releasedVersions(schema()), writer);
  }

  private static List<Schema> releasedVersions(Schema schema) {
    if (Schemas.names().contains(schema.getName())) {
      return List.copyOf(Schemas.history(schema.getName()).versions().values());
    }
    return List.of(schema);
  }

  public Schema schema() {
    if (schema == null) {
      schema = new Schema.Parser().parse(schemaJson);
    }
    return schema;
  }

  /** Whether the payload holds nothing but whitespace: such lines are filtered, not records. */
  public static boolean isBlank(byte[] payload) {
    for (byte b : payload) {
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return false;
      }
    }
    return true;
  }

  public GenericRecord parse(SourceRecord record) throws RecordException, RecordFiltered {
    if (format == InputFormat.DEBEZIUM) {
      checkUtf8(record.payload());
      JsonNode tree;
      try {
        tree = mapper().readTree(record.payload());
      } catch (JsonProcessingException e) {
        throw new RecordException(
            FailureReason.PARSE, "invalid JSON: " + e.getOriginalMessage(), e);
      } catch (IOException e) {
        throw new RecordException(FailureReason.PARSE, "invalid JSON: " + e.getMessage(), e);
      }
      if (tree == null) {
        throw new RecordException(FailureReason.PARSE, "expected a change event but found nothing");
      }
      return changes.parse(tree, schema());
    }
    if (format == InputFormat.AVRO) {
      return parseAvro(record.payload());
    }
    if (format == InputFormat.JSONL) {
      checkUtf8(record.payload());
      return parseJson(record.payload());
    }
    return parseCsv(record, decode(record.payload()));
  }

  /**
   * Avro binary of one record, resolved from the version it was written with to the current one
   * (new fields get their defaults); all bytes must be consumed.
   */
  private GenericRecord parseAvro(byte[] payload) throws RecordException {
    if (writersByFingerprint == null) {
      writersByFingerprint = new HashMap<>();
      for (String json : writerSchemasJson) {
        Schema writer = new Schema.Parser().parse(json);
        writersByFingerprint.put(SchemaNormalization.parsingFingerprint64(writer), writer);
      }
      defaultWriter = new Schema.Parser().parse(defaultWriterJson);
    }
    Schema writer = defaultWriter;
    int offset = 0;
    if (payload.length >= 10 && payload[0] == (byte) 0xC3 && payload[1] == (byte) 0x01) {
      long fingerprint = ByteBuffer.wrap(payload, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      writer = writersByFingerprint.get(fingerprint);
      if (writer == null) {
        throw new RecordException(
            FailureReason.SCHEMA,
            "Avro single-object value names schema fingerprint "
                + Long.toHexString(fingerprint)
                + ", which is no released version of "
                + schema().getName());
      }
      offset = 10;
    }
    GenericDatumReader<GenericRecord> reader =
        new GenericDatumReader<>(writer, schema(), new GenericData());
    BinaryDecoder decoder =
        DecoderFactory.get().binaryDecoder(payload, offset, payload.length - offset, null);
    GenericRecord out;
    try {
      out = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new RecordException(
            FailureReason.PARSE,
            "Avro record is followed by unread bytes: not one " + schema().getName());
      }
    } catch (IOException | RuntimeException e) {
      throw new RecordException(
          FailureReason.PARSE,
          "invalid Avro binary for schema "
              + schema().getName()
              + ": "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage(),
          e);
    }
    AvroValues.checkDecimals(out);
    return out;
  }

  /** Decodes strict UTF-8: malformed input is a failure, never replaced. */
  public static String decode(byte[] bytes) throws RecordException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (MalformedInputException e) {
      return failDecode(bytes, e);
    } catch (CharacterCodingException e) {
      throw new RecordException(FailureReason.DECODE, "bytes are not valid UTF-8", e);
    }
  }

  private static String failDecode(byte[] bytes, MalformedInputException e) throws RecordException {
    int offset = firstMalformedOffset(bytes);
    throw new RecordException(
        FailureReason.DECODE,
        "bytes are not valid UTF-8: malformed sequence at byte offset "
            + offset
            + " (0x"
            + String.format("%02X", bytes[offset] & 0xFF)
            + ")");
  }

  private static int firstMalformedOffset(byte[] bytes) {
    var decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    var out = CharBuffer.allocate(bytes.length + 1);
    var result = decoder.decode(in, out, true);
    return result.isError() ? in.position() : 0;
  }

  /**
   * Strict UTF-8, checked without decoding (ASCII costs one comparison per byte): malformed input
   * is a {@code decode} failure naming the offset of the first bad byte.
   */
  static void checkUtf8(byte[] bytes) throws RecordException {
    int i = 0;
    int n = bytes.length;
    while (i < n) {
      int c = bytes[i] & 0xFF;
      if (c < 0x80) {
        i++;
        continue;
      }
      int length;
      int low = 0x80;
      int high = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
      } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        low = c == 0xE0 ? 0xA0 : 0x80;
        high = c == 0xED ? 0x9F : 0xBF;
      } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        low = c == 0xF0 ? 0x90 : 0x80;
        high = c == 0xF4 ? 0x8F : 0xBF;
      } else {
        decode(bytes);
        return;
      }
      if (i + length > n) {
        decode(bytes);
        return;
      }
      for (int k = 1; k < length; k++) {
        int next = bytes[i + k] & 0xFF;
        if (k == 1 ? next < low || next > high : next < 0x80 || next > 0xBF) {
          decode(bytes);
          return;
        }
      }
      i += length;
    }
  }

  /**
   * One JSON object, read token by token from the bytes (no text of the line, no tree of the
   * object): each field's value becomes a small node converted by {@link AvroValues#fromJson}.
   * Duplicate keys and anything after the object are parse failures; an unknown field is a schema
   * failure, reported before any value's.
   */
  private GenericRecord parseJson(byte[] bytes) throws RecordException {
    Schema schema = schema();
    JsonNode[] values = new JsonNode[schema.getFields().size()];
    boolean open = SchemaChanges.isOpen(schema);
    Map<String, JsonNode> unknown = null;
    try (JsonParser p = mapper().getFactory().createParser(bytes)) {
      JsonToken token = p.nextToken();
      if (token != JsonToken.START_OBJECT) {
        throw new RecordException(
            FailureReason.PARSE,
            "expected a JSON object but found "
                + (token == null
                    ? "nothing"
                    : ((JsonNode) mapper().readTree(p))
                        .getNodeType()
                        .name()
                        .toLowerCase(Locale.ROOT)));
      }
      while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        Schema.Field field = schema.getField(name);
        JsonNode node = node(p, value);
        if (field == null || (open && field.name().equals(SchemaChanges.EXTRA))) {
          if (unknown == null) {
            unknown = new java.util.LinkedHashMap<>();
          }
          unknown.putIfAbsent(name, node);
        } else {
          values[field.pos()] = node;
        }
      }
      if (p.nextToken() != null) {
        throw new RecordException(
            FailureReason.PARSE,
            "invalid JSON: Trailing token (of type "
                + p.currentToken()
                + ") found after value (bound as `com.fasterxml.jackson.databind.JsonNode`)");
      }
    } catch (JsonProcessingException e) {
      throw new RecordException(FailureReason.PARSE, "invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new RecordException(FailureReason.PARSE, "invalid JSON: " + e.getMessage(), e);
    }
    String extra = unknown == null ? null : newFields(schema, unknown, open);
    GenericData.Record out = new GenericData.Record(schema);
    for (Schema.Field field : schema.getFields()) {
      if (open && field.name().equals(SchemaChanges.EXTRA)) {
        out.put(field.pos(), extra);
      } else {
        out.put(field.pos(), AvroValues.fromJson(field, values[field.pos()]));
      }
    }
    return out;
  }

  /**
   * The fields the contract lacks: refused, naming them, unless the schema is open ({@link
   * SchemaChanges#open}), which keeps their values (scalars only; a null tells nothing) as the JSON
   * object of its hidden field.
   */
  private static @Nullable String newFields(
      Schema schema, Map<String, JsonNode> unknown, boolean open)
      throws SchemaChanges.SchemaChangeException {
    List<SchemaChanges.NewField> fields = new ArrayList<>();
    Map<String, JsonNode> kept = new java.util.LinkedHashMap<>();
    SchemaChanges.NewField refused = null;
    for (Map.Entry<String, JsonNode> e : unknown.entrySet()) {
      SchemaChanges.NewField field =
          new SchemaChanges.NewField(e.getKey(), SchemaChanges.inferType(e.getValue()));
      fields.add(field);
      if (field.type().equals("null")) {
        continue;
      }
      if (!field.scalar() && refused == null) {
        refused = field;
      }
      kept.put(e.getKey(), e.getValue());
    }
    if (!open) {
      String first = unknown.keySet().iterator().next();
      throw new SchemaChanges.SchemaChangeException(
          fields,
          "unknown field '" + AvroValues.shorten(first) + "' is not in schema " + schema.getName());
    }
    if (refused != null) {
      throw new SchemaChanges.SchemaChangeException(
          fields,
          "new field '"
              + AvroValues.shorten(refused.name())
              + "' holds a "
              + refused.type()
              + ": only a string, number or boolean can be added as a column");
    }
    return kept.isEmpty() ? null : SchemaChanges.extraJson(kept);
  }

  /** The current value as a node: scalars built directly, objects and arrays read as trees. */
  private JsonNode node(JsonParser p, JsonToken token) throws IOException {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    return switch (token) {
      case VALUE_STRING -> nodes.textNode(p.getText());
      case VALUE_NUMBER_INT ->
          switch (p.getNumberType()) {
            case INT -> nodes.numberNode(p.getIntValue());
            case LONG -> nodes.numberNode(p.getLongValue());
            default -> nodes.numberNode(p.getBigIntegerValue());
          };
      // Exact, as the tree reader with USE_BIG_DECIMAL_FOR_FLOATS: never through a double.
      case VALUE_NUMBER_FLOAT -> nodes.numberNode(p.getDecimalValue());
      case VALUE_TRUE -> nodes.booleanNode(true);
      case VALUE_FALSE -> nodes.booleanNode(false);
      case VALUE_NULL -> nodes.nullNode();
      // A nested value is one tree in the middle of the object: read without the check for
      // trailing tokens, which would take the rest of the object for garbage.
      default -> SUBTREES.readTree(p);
    };
  }

  private static final ObjectMapper SUBTREES =
      new ObjectMapper()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

  private ObjectMapper mapper() {
    if (json == null) {
      json =
          new ObjectMapper()
              .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
              .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
              .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
              .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }
    return json;
  }

  private GenericRecord parseCsv(SourceRecord record, String text) throws RecordException {
    if (record.header() == null) {
      throw new IllegalStateException("CSV record " + record.origin() + " carries no header line");
    }
    Header header = header(record.header());
    if (header.problem != null) {
      if (!header.unknown.isEmpty()) {
        // Columns the contract lacks: a schema change, reported as such.
        throw new SchemaChanges.SchemaChangeException(header.unknown, header.problem);
      }
      throw new RecordException(FailureReason.SCHEMA, header.problem);
    }
    List<String> cells = csvCells(text);
    if (cells.size() != header.columns.size()) {
      throw new RecordException(
          FailureReason.PARSE,
          "expected "
              + header.columns.size()
              + " columns (as in the header) but found "
              + cells.size());
    }
    Schema schema = schema();
    GenericData.Record out = new GenericData.Record(schema);
    for (Schema.Field field : schema.getFields()) {
      Integer column = header.positions.get(field.name());
      String cell = column == null ? null : cells.get(column);
      out.put(
          field.pos(), AvroValues.fromText(field, cell == null || cell.isEmpty() ? null : cell));
    }
    return out;
  }

  /**
   * The cells of one CSV line (RFC 4180): cells separated by commas; a cell that starts with a
   * double quote runs to the next lone double quote, doubled quotes inside it standing for one; a
   * quote inside an unquoted cell is kept. One pass over the line, no parser object per line.
   */
  public static List<String> csvCells(String line) throws RecordException {
    List<String> cells = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    int n = line.length();
    int i = 0;
    while (true) {
      cell.setLength(0);
      if (i < n && line.charAt(i) == '"') {
        i++;
        while (true) {
          if (i >= n) {
            throw new RecordException(
                FailureReason.PARSE, "invalid CSV: unbalanced quotes: a quoted cell is not closed");
          }
          char c = line.charAt(i++);
          if (c == '"') {
            if (i < n && line.charAt(i) == '"') {
              cell.append('"');
              i++;
            } else {
              break;
            }
          } else {
            cell.append(c);
          }
        }
        // Whitespace between the closing quote and the comma is dropped (as Commons CSV does).
        while (i < n && line.charAt(i) != ',' && Character.isWhitespace(line.charAt(i))) {
          i++;
        }
        if (i < n && line.charAt(i) != ',') {
          throw new RecordException(
              FailureReason.PARSE,
              "invalid CSV: invalid char between encapsulated token and delimiter at position "
                  + i);
        }
      } else {
        int comma = line.indexOf(',', i);
        int end = comma < 0 ? n : comma;
        cell.append(line, i, end);
        i = end;
      }
      cells.add(cell.toString());
      if (i >= n) {
        return cells;
      }
      i++; // the comma
    }
  }

  /**
   * What is wrong with a CSV file's header line for this schema (not UTF-8, not CSV, a column
   * twice, a column that is no field), or null when it is a valid header.
   */
  public String headerProblem(byte[] raw) {
    return header(raw).problem;
  }

  private Header header(byte[] raw) {
    if (headers == null) {
      headers = new HashMap<>();
    }
    return headers.computeIfAbsent(ByteBuffer.wrap(raw), key -> Header.parse(raw, schema()));
  }

  /** A file's CSV header: column positions by field name, or what is wrong with it. */
  private static final class Header {
    final List<String> columns = new ArrayList<>();
    final Map<String, Integer> positions = new HashMap<>();
    final List<SchemaChanges.NewField> unknown = new ArrayList<>();
    String problem;

    static Header parse(byte[] raw, Schema schema) {
      Header header = new Header();
      try {
        header.columns.addAll(csvCells(decode(raw)));
      } catch (RecordException e) {
        header.problem = "the file's header line is invalid: " + e.getMessage();
        return header;
      }
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < header.columns.size(); i++) {
        String name = header.columns.get(i).strip();
        if (!seen.add(name)) {
          header.problem = "the file's header names column '" + name + "' twice";
          return header;
        }
        if (schema.getField(name) == null) {
          if (header.problem == null) {
            header.problem =
                "the file's header has column '"
                    + AvroValues.shorten(name)
                    + "', which is not a field of schema "
                    + schema.getName();
          }
          // A schema change: CSV cells are text.
          header.unknown.add(new SchemaChanges.NewField(name, "string"));
          continue;
        }
        header.positions.put(name, i);
      }
      return header;
    }
  }
}

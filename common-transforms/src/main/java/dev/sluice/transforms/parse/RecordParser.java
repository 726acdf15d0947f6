package dev.sluice.transforms.parse;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Parses one record's bytes into a {@link GenericRecord} of a schema: strict UTF-8 decoding, then
 * CSV (against the file's header) or JSON, then the schema's types. Each failure is a {@link
 * RecordException} naming its reason: decode, parse or schema.
 */
public final class RecordParser implements Serializable {
  private static final CSVFormat CSV =
      CSVFormat.RFC4180.builder().setIgnoreSurroundingSpaces(false).get();

  private final String schemaJson;
  private final InputFormat format;
  private final List<String> writerSchemasJson;
  private final String defaultWriterJson;
  private transient Map<Long, Schema> writersByFingerprint;
  private transient Schema defaultWriter;
  private transient Schema schema;
  private transient ObjectMapper json;
  private transient Map<ByteBuffer, Header> headers;

  private RecordParser(
      Schema schema, InputFormat format, List<Schema> writers, Schema defaultWriter) {
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

  public GenericRecord parse(SourceRecord record) throws RecordException {
    if (format == InputFormat.AVRO) {
      return parseAvro(record.payload());
    }
    String text = decode(record.payload());
    return switch (format) {
      case CSV -> parseCsv(record, text);
      case JSONL -> parseJson(text);
      case AVRO -> throw new IllegalStateException("unreachable");
    };
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
  static String decode(byte[] bytes) throws RecordException {
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
    var out = java.nio.CharBuffer.allocate(bytes.length + 1);
    var result = decoder.decode(in, out, true);
    return result.isError() ? in.position() : 0;
  }

  private GenericRecord parseJson(String text) throws RecordException {
    JsonNode node;
    try {
      node = mapper().readTree(text);
    } catch (JsonProcessingException e) {
      throw new RecordException(FailureReason.PARSE, "invalid JSON: " + e.getOriginalMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new RecordException(
          FailureReason.PARSE,
          "expected a JSON object but found "
              + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
    }
    Schema schema = schema();
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (schema.getField(name) == null) {
        throw new RecordException(
            FailureReason.SCHEMA,
            "unknown field '"
                + AvroValues.shorten(name)
                + "' is not in schema "
                + schema.getName());
      }
    }
    GenericData.Record out = new GenericData.Record(schema);
    for (Schema.Field field : schema.getFields()) {
      out.put(field.pos(), AvroValues.fromJson(field, node.get(field.name())));
    }
    return out;
  }

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

  private static List<String> csvCells(String line) throws RecordException {
    try (CSVParser parser = CSVParser.parse(line, CSV)) {
      List<CSVRecord> rows = parser.getRecords();
      if (rows.size() != 1) {
        throw new RecordException(
            FailureReason.PARSE, "expected one CSV row on the line but found " + rows.size());
      }
      List<String> cells = new ArrayList<>();
      rows.get(0).forEach(cells::add);
      return cells;
    } catch (IOException | UncheckedIOException | IllegalStateException e) {
      String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      if (message.contains("EOF reached before encapsulated token finished")) {
        message = "unbalanced quotes: a quoted cell is not closed";
      }
      throw new RecordException(FailureReason.PARSE, "invalid CSV: " + message, e);
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
          header.problem =
              "the file's header has column '"
                  + AvroValues.shorten(name)
                  + "', which is not a field of schema "
                  + schema.getName();
          return header;
        }
        header.positions.put(name, i);
      }
      return header;
    }
  }
}

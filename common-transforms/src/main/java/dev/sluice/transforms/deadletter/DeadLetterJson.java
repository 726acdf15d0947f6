package dev.sluice.transforms.deadletter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.AvroTypes;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;

/**
 * The JSON form of a dead letter, one object per line in JSON-lines sinks. Field names are the Avro
 * field names; the payload is base64 in {@code payload_base64} so its bytes survive untouched.
 */
public final class DeadLetterJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private DeadLetterJson() {}

  public static String toJson(DeadLetter d) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("pipeline", d.getPipeline());
    node.put("step", d.getStep());
    node.put("origin", d.getOrigin());
    node.put("reason", d.getReason());
    node.put("payload_base64", Base64.getEncoder().encodeToString(bytes(d.getPayload())));
    node.put("payload_preview", d.getPayloadPreview());
    node.put("error_class", d.getErrorClass());
    node.put("error_message", d.getErrorMessage());
    node.put("stack_trace", d.getStackTrace());
    node.put("rule", d.getRule());
    node.put("attempt", d.getAttempt());
    node.put("failed_at", d.getFailedAt().toString());
    node.put("schema_name", d.getSchemaName());
    node.put("schema_version", d.getSchemaVersion());
    node.put(
        "source_timestamp",
        d.getSourceTimestamp() == null ? null : d.getSourceTimestamp().toString());
    node.put(
        "payload_header_base64",
        d.getPayloadHeader() == null
            ? null
            : Base64.getEncoder().encodeToString(bytes(d.getPayloadHeader())));
    node.put(
        "payload_encryption",
        d.getPayloadEncryption() == null ? null : d.getPayloadEncryption().toString());
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads back what {@link #toJson} wrote, e.g. to replay dead letters. */
  public static DeadLetter fromJson(String json) {
    JsonNode n;
    try {
      n = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    byte[] payload;
    try {
      payload = Base64.getDecoder().decode(required(n, "payload_base64"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "field 'payload_base64' is not base64: " + e.getMessage(), e);
    }
    return DeadLetter.newBuilder()
        .setPipeline(required(n, "pipeline"))
        .setStep(required(n, "step"))
        .setOrigin(required(n, "origin"))
        .setReason(required(n, "reason"))
        .setPayload(ByteBuffer.wrap(payload))
        .setPayloadPreview(n.path("payload_preview").asText(""))
        .setErrorClass(required(n, "error_class"))
        .setErrorMessage(required(n, "error_message"))
        .setStackTrace(text(n, "stack_trace"))
        .setRule(text(n, "rule"))
        .setAttempt(n.has("attempt") ? n.get("attempt").asInt() : 1)
        .setFailedAt(instant(required(n, "failed_at"), "failed_at"))
        .setSchemaName(text(n, "schema_name"))
        .setSchemaVersion(
            n.path("schema_version").isNull() || !n.has("schema_version")
                ? null
                : n.get("schema_version").asInt())
        .setSourceTimestamp(
            text(n, "source_timestamp") == null
                ? null
                : instant(n.get("source_timestamp").asText(), "source_timestamp"))
        .setPayloadHeader(
            text(n, "payload_header_base64") == null
                ? null
                : ByteBuffer.wrap(
                    Base64.getDecoder().decode(n.get("payload_header_base64").asText())))
        .setPayloadEncryption(text(n, "payload_encryption"))
        .build();
  }

  /** A field every dead letter has, or a failure naming it. */
  private static String required(JsonNode node, String field) {
    String value = text(node, field);
    if (value == null) {
      throw new IllegalArgumentException("field '" + field + "' is missing");
    }
    return value;
  }

  private static Instant instant(String text, String field) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "field '" + field + "' is no ISO-8601 instant: '" + text + "'", e);
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  /** The bytes of an Avro {@code bytes} value, without moving its position. */
  public static byte[] bytes(ByteBuffer buffer) {
    return AvroTypes.bytes(buffer);
  }
}

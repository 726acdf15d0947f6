package dev.sluice.transforms.pii;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.sluice.schemas.PiiPolicy;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.parse.RecordParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * Shows a payload without its personal data: the values of the named fields are replaced by {@value
 * PiiPolicy#MASK}, wherever they are in a JSON document (a Debezium envelope's {@code before} and
 * {@code after} included), or in a CSV line whose header names them. A payload where they cannot be
 * located (not UTF-8, not JSON, no header) shows nothing.
 */
public final class PiiRedaction {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern QUOTED = Pattern.compile("'[^']*'|\"[^\"]*\"");

  private PiiRedaction() {}

  /** What a redaction found: the preview to show, and the clear values to mask elsewhere. */
  public record Redacted(String preview, List<String> values, boolean located) {
    /**
     * {@code text} with every clear value found masked; when the payload could not be read, every
     * quoted part is masked instead (a parser's message may quote the payload).
     */
    public String scrub(String text) {
      if (!located) {
        return QUOTED.matcher(text).replaceAll("'" + PiiPolicy.MASK + "'");
      }
      String out = text;
      for (String value : values) {
        out = out.replace(value, PiiPolicy.MASK);
      }
      return out;
    }
  }

  /** The redaction of {@code payload} (with its CSV {@code header}, if any) for {@code fields}. */
  public static Redacted redact(byte[] payload, @Nullable byte[] header, Set<String> fields) {
    String text = utf8(payload);
    if (text == null) {
      return withheld();
    }
    List<String> values = new ArrayList<>();
    String stripped = text.strip();
    if (stripped.startsWith("{") || stripped.startsWith("[")) {
      try {
        JsonNode root = JSON.readTree(text);
        if (root != null) {
          mask(root, fields, values);
          return located(JSON.writeValueAsString(root), values);
        }
      } catch (Exception e) {
        return withheld();
      }
    }
    String headerText = header == null ? null : utf8(header);
    if (headerText != null) {
      try {
        List<String> columns = RecordParser.csvCells(headerText.strip());
        List<String> cells = RecordParser.csvCells(stripped);
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
          boolean personal = i < columns.size() && fields.contains(columns.get(i).strip());
          if (personal && !cells.get(i).isEmpty()) {
            values.add(cells.get(i));
          }
          shown.add(personal && !cells.get(i).isEmpty() ? PiiPolicy.MASK : cells.get(i));
        }
        return located(String.join(",", shown), values);
      } catch (Exception e) {
        return withheld();
      }
    }
    return withheld();
  }

  private static Redacted located(String preview, List<String> values) {
    List<String> longestFirst = new ArrayList<>(values);
    longestFirst.removeIf(String::isEmpty);
    longestFirst.sort(Comparator.comparingInt(String::length).reversed());
    return new Redacted(
        DeadLetters.preview(preview.getBytes(StandardCharsets.UTF_8)), longestFirst, true);
  }

  private static Redacted withheld() {
    return new Redacted(
        "[payload withheld: its contract holds personal data, which cannot be located in it]",
        List.of(),
        false);
  }

  private static void mask(JsonNode node, Set<String> fields, List<String> values) {
    if (node instanceof ObjectNode object) {
      Iterator<Map.Entry<String, JsonNode>> it = object.fields();
      List<String> personal = new ArrayList<>();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> entry = it.next();
        if (fields.contains(entry.getKey()) && !entry.getValue().isNull()) {
          personal.add(entry.getKey());
        } else {
          mask(entry.getValue(), fields, values);
        }
      }
      for (String key : personal) {
        collect(object.get(key), values);
        object.set(key, TextNode.valueOf(PiiPolicy.MASK));
      }
    } else if (node instanceof ArrayNode array) {
      for (JsonNode element : array) {
        mask(element, fields, values);
      }
    }
  }

  private static void collect(JsonNode node, List<String> values) {
    if (node.isValueNode()) {
      values.add(node.asText());
      if (node.isTextual()) {
        values.add(JSON.valueToTree(node.asText()).toString());
      }
    } else {
      for (JsonNode child : node) {
        collect(child, values);
      }
    }
  }

  private static @Nullable String utf8(byte[] bytes) {
    try {
      return RecordParser.decode(bytes);
    } catch (RecordException e) {
      return null;
    }
  }
}

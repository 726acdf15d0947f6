package dev.sluice.io.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Serializable;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import javax.annotation.Nullable;

/**
 * A data file a run wrote, as the commit (or publish) that makes it visible needs it.
 *
 * @param path the file's full path (or URI)
 * @param partition its partition, as a path ({@code dt=2026-11-25}, {@code created_at_day=...})
 * @param stem the stem its name starts with: what it belongs to (an input file, an export)
 * @param records the records in it
 * @param bytes its size
 * @param detail format-specific detail the commit needs (an Iceberg data file, serialized), or null
 * @param positions for records read from Kafka: the highest offset in the file of each {@code
 *     <topic>/<partition>} (empty otherwise), so that a commit can say what it holds
 */
public record WrittenFile(
    String path,
    String partition,
    String stem,
    long records,
    long bytes,
    @Nullable byte[] detail,
    Map<String, Long> positions)
    implements Serializable {
  private static final ObjectMapper JSON = new ObjectMapper();

  public WrittenFile {
    positions = Map.copyOf(positions);
  }

  /** A file of records that came from no Kafka topic. */
  public WrittenFile(
      String path,
      String partition,
      String stem,
      long records,
      long bytes,
      @Nullable byte[] detail) {
    this(path, partition, stem, records, bytes, detail, Map.of());
  }

  /** The same file, holding records up to these offsets. */
  public WrittenFile withPositions(Map<String, Long> highest) {
    return new WrittenFile(path, partition, stem, records, bytes, detail, highest);
  }

  /** The file name, after the last slash. */
  public String name() {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** One line of a run's list of written files. */
  public String toJson() {
    ObjectNode node = JSON.createObjectNode();
    node.put("path", path);
    node.put("partition", partition);
    node.put("stem", stem);
    node.put("records", records);
    node.put("bytes", bytes);
    if (detail != null) {
      node.put("detail", Base64.getEncoder().encodeToString(detail));
    }
    if (!positions.isEmpty()) {
      ObjectNode highest = node.putObject("positions");
      positions.forEach(highest::put);
    }
    return node.toString();
  }

  /** The file a line of a list names; fails naming what is missing. */
  public static WrittenFile fromJson(String line) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a line of written files: " + e.getMessage(), e);
    }
    for (String field : new String[] {"path", "partition", "stem", "records", "bytes"}) {
      if (node == null || !node.has(field)) {
        throw new IllegalArgumentException("a line of written files lacks '" + field + "'");
      }
    }
    Map<String, Long> positions = new TreeMap<>();
    if (node.has("positions")) {
      node.get("positions")
          .fields()
          .forEachRemaining(e -> positions.put(e.getKey(), e.getValue().asLong()));
    }
    return new WrittenFile(
        node.get("path").asText(),
        node.get("partition").asText(),
        node.get("stem").asText(),
        node.get("records").asLong(),
        node.get("bytes").asLong(),
        node.has("detail") ? Base64.getDecoder().decode(node.get("detail").asText()) : null,
        positions);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WrittenFile other && path.equals(other.path);
  }

  @Override
  public int hashCode() {
    return path.hashCode();
  }
}

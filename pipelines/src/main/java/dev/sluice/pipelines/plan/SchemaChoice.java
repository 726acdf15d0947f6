package dev.sluice.pipelines.plan;

import dev.sluice.schemas.SchemaCompatibilityCheck;
import dev.sluice.schemas.SchemaHistory;
import dev.sluice.schemas.Schemas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The schema a run parses into: the current version of {@code --schema}, or the version given by
 * {@code --schemaFile}, held to the same contract as a released version before it is used.
 */
public final class SchemaChoice {
  private SchemaChoice() {}

  /**
   * The current version of {@code name}, or the schema in {@code file}: a released version of that
   * schema as released, or its next version, which must keep the compatibility mode its history
   * declares (the check the build runs over the released history).
   *
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static Schema of(String name, @Nullable String file) {
    Schema current = Schemas.byName(name);
    if (file == null) {
      return current;
    }
    Schema candidate;
    try {
      candidate = new Schema.Parser().parse(Files.readString(Path.of(file)));
    } catch (IOException | SchemaParseException e) {
      throw new IllegalArgumentException(
          "--schemaFile=" + file + " is not a readable Avro schema: " + e.getMessage(), e);
    }
    if (!candidate.getFullName().equals(current.getFullName())) {
      throw new IllegalArgumentException(
          "--schemaFile="
              + file
              + " defines "
              + candidate.getFullName()
              + ", not "
              + current.getFullName()
              + " (--schema="
              + name
              + ")");
    }
    SchemaHistory history = Schemas.history(name);
    int version = Schemas.version(candidate);
    int latest = history.versions().lastKey();
    if (version <= latest) {
      if (!history.version(version).equals(candidate)) {
        throw new IllegalArgumentException(
            "--schemaFile="
                + file
                + " declares sluice.version "
                + version
                + ", which is released with other content: a change is version "
                + (latest + 1));
      }
      return candidate;
    }
    if (version != latest + 1) {
      throw new IllegalArgumentException(
          "--schemaFile="
              + file
              + " declares sluice.version "
              + version
              + ", but the next version of "
              + name
              + " is "
              + (latest + 1));
    }
    SortedMap<Integer, Schema> versions = new TreeMap<>(history.versions());
    versions.put(version, candidate);
    List<String> violations = SchemaCompatibilityCheck.violations(name, versions);
    if (!violations.isEmpty()) {
      throw new IllegalArgumentException(
          "--schemaFile="
              + file
              + " breaks the contract of "
              + name
              + ":\n  "
              + String.join("\n  ", violations));
    }
    return candidate;
  }
}

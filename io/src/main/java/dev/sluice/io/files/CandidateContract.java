package dev.sluice.io.files;

import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.parse.SchemaChanges;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The next version of a contract that {@code --onSchemaChange=add_columns} proposes: the reviewed
 * contract with the columns runs added, written for review and commit in the layout of the schemas
 * module's history ({@code <dataset>/v<N>.avsc}).
 *
 * @param contract the reviewed contract (JSON), which the candidate extends
 * @param directory where candidates are written, or null for nowhere
 */
public record CandidateContract(String contract, @Nullable String directory)
    implements Serializable {
  /**
   * The next version of {@code contract}: its fields and {@code columns} (name to Avro type) as
   * nullable fields with default null, a backward-compatible change under the schemas module's
   * rules.
   */
  public static Schema next(Schema contract, Map<String, String> columns) {
    Schema next = SchemaChanges.withColumns(SchemaChanges.closed(contract), columns);
    List<Schema.Field> fields =
        next.getFields().stream().map(f -> new Schema.Field(f, f.schema())).toList();
    Schema versioned =
        Schema.createRecord(next.getName(), next.getDoc(), next.getNamespace(), false, fields);
    next.getObjectProps()
        .forEach(
            (key, value) -> {
              if (!key.equals("sluice.version")) {
                versioned.addProp(key, value);
              }
            });
    versioned.addProp("sluice.version", Schemas.version(contract) + 1);
    return versioned;
  }

  /** Writes the candidate with {@code columns} under {@link #directory}; returns where, or null. */
  public @Nullable String write(Map<String, String> columns) throws IOException {
    if (directory == null) {
      return null;
    }
    Schema reviewed = new Schema.Parser().parse(contract);
    Schema next = next(reviewed, columns);
    String dataset =
        Schemas.historyDirectories()
            .getOrDefault(reviewed.getName(), reviewed.getName().toLowerCase(Locale.ROOT));
    String location =
        directory.replaceAll("/+$", "") + "/" + dataset + "/v" + Schemas.version(next) + ".avsc";
    ResourceId target = FileSystems.matchNewResource(location, false);
    try (OutputStream out = Channels.newOutputStream(FileSystems.create(target, MimeTypes.TEXT))) {
      out.write((next.toString(true) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return location;
  }
}

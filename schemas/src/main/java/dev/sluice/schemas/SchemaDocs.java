package dev.sluice.schemas;

import java.util.Map;
import java.util.SortedMap;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/** Markdown tables of every schema's fields, with the version that introduced each. */
public final class SchemaDocs {
  private SchemaDocs() {}

  public static String markdown() {
    StringBuilder out = new StringBuilder();
    out.append("# Sluice schemas\n\n");
    out.append(
        "Generated from `src/main/resources/dev/sluice/schemas/history` by `SchemaDocs` (the\n"
            + "`SchemaDocsTest` fails when this file is stale; run it with\n"
            + "`-Dsluice.writeSchemaDocs=true` to rewrite it). Each released version is kept; a new\n"
            + "version must keep the compatibility mode its schema declares, which `mvn verify` checks.\n");
    for (Map.Entry<String, String> dataset : Schemas.historyDirectories().entrySet()) {
      SchemaHistory history = SchemaHistory.of(dataset.getValue());
      SortedMap<Integer, Schema> versions = history.versions();
      Schema latest = history.latest();
      out.append("\n## ").append(dataset.getKey()).append("\n\n");
      out.append("Versions: ")
          .append(versions.keySet().stream().map(v -> "v" + v).toList())
          .append(" · compatibility: ")
          .append(SchemaCompatibilityCheck.mode(latest))
          .append(" · history: `history/")
          .append(dataset.getValue())
          .append("/`\n\n");
      if (latest.getDoc() != null) {
        out.append(latest.getDoc()).append("\n\n");
      }
      out.append("| field | type | required | default | since | personal data | description |\n");
      out.append("|---|---|---|---|---|---|---|\n");
      for (Schema.Field field : latest.getFields()) {
        int since = versions.lastKey();
        for (Map.Entry<Integer, Schema> version : versions.entrySet()) {
          if (version.getValue().getField(field.name()) != null) {
            since = version.getKey();
            break;
          }
        }
        boolean optional =
            field.schema().getType() == Schema.Type.UNION
                && field.schema().getTypes().stream()
                    .anyMatch(s -> s.getType() == Schema.Type.NULL);
        out.append("| `")
            .append(field.name())
            .append("` | ")
            .append(type(field.schema()))
            .append(" | ")
            .append(optional ? "no" : "yes")
            .append(" | ")
            .append(field.hasDefaultValue() ? "`" + defaultText(field) + "`" : "")
            .append(" | v")
            .append(since)
            .append(" | ")
            .append(personalData(field.name(), versions))
            .append(" | ")
            .append(field.doc() == null ? "" : field.doc().replace("|", "\\|"))
            .append(" |\n");
      }
    }
    return out.toString();
  }

  /** {@code token (since v2)}: the field's policy in the newest version, and since when. */
  private static String personalData(String field, SortedMap<Integer, Schema> versions) {
    PiiPolicy policy = PiiPolicy.of(versions.get(versions.lastKey())).get(field);
    if (policy == null) {
      return "";
    }
    int since = versions.lastKey();
    for (Map.Entry<Integer, Schema> version : versions.entrySet()) {
      if (PiiPolicy.of(version.getValue()).get(field) == policy) {
        since = version.getKey();
        break;
      }
    }
    return "`" + policy + "` (since v" + since + ")";
  }

  private static String defaultText(Schema.Field field) {
    Object value = field.defaultVal();
    if (value == org.apache.avro.JsonProperties.NULL_VALUE) {
      return "null";
    }
    return value instanceof CharSequence ? "\"" + value + "\"" : String.valueOf(value);
  }

  private static String type(Schema schema) {
    if (schema.getType() == Schema.Type.UNION) {
      return schema.getTypes().stream()
          .filter(s -> s.getType() != Schema.Type.NULL)
          .map(SchemaDocs::type)
          .findFirst()
          .orElse("null");
    }
    LogicalType logical = schema.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal d) {
      return "decimal(" + d.getPrecision() + "," + d.getScale() + ")";
    }
    if (logical != null) {
      return logical.getName();
    }
    if (schema.getType() == Schema.Type.ENUM) {
      return "enum {" + String.join(", ", schema.getEnumSymbols()) + "}";
    }
    return schema.getType().getName();
  }
}

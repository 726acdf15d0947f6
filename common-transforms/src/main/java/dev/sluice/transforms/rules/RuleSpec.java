package dev.sluice.transforms.rules;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * One rule as written in a rules file, read by its kind: its keys' values, checked against the
 * schema, and errors that name the file and line of the key that is wrong.
 */
public final class RuleSpec {
  private final String file;
  private final Schema schema;
  private final String kind;
  private final Node rule;
  private final Map<String, Node> keys;

  RuleSpec(String file, Schema schema, String kind, Node rule, Map<String, Node> keys) {
    this.file = file;
    this.schema = schema;
    this.kind = kind;
    this.rule = rule;
    this.keys = keys;
  }

  /** The rule's kind, e.g. {@code range}. */
  public String kind() {
    return kind;
  }

  public Schema schema() {
    return schema;
  }

  public boolean has(String key) {
    return keys.containsKey(key);
  }

  /** An error at the rule's line. */
  public RulesFile.InvalidRulesException error(String message) {
    return errorAt(rule, message);
  }

  /** An error at {@code key}'s line (or the rule's, when the key is absent). */
  public RulesFile.InvalidRulesException error(String key, String message) {
    return errorAt(keys.containsKey(key) ? keys.get(key) : rule, message);
  }

  private RulesFile.InvalidRulesException errorAt(Node node, String message) {
    return new RulesFile.InvalidRulesException(
        file + " line " + (node.getStartMark().getLine() + 1) + ": " + message);
  }

  /** The value of a key the rule needs. */
  public String required(String key) {
    if (!keys.containsKey(key)) {
      throw errorAt(rule, "rule needs '" + key + "'");
    }
    return scalar(keys.get(key));
  }

  /** The value of an optional key, or {@code otherwise}. */
  public String text(String key, String otherwise) {
    return keys.containsKey(key) ? scalar(keys.get(key)) : otherwise;
  }

  /** A field of the schema, named by {@code key}. */
  public String field(String key) {
    String field = required(key);
    if (schema.getField(field) == null) {
      throw error(
          key,
          "field '"
              + field
              + "' is not in schema "
              + schema.getName()
              + "; fields: "
              + schema.getFields().stream().map(Schema.Field::name).toList());
    }
    return field;
  }

  /** The schema of the field named by {@code key}, without its null branch. */
  public Schema typeOf(String field) {
    return RecordRule.nonNull(schema.getField(field).schema());
  }

  /** A field that compares as a number or timestamp. */
  public String comparableField(String key) {
    String field = field(key);
    if (!RecordRule.isComparable(schema.getField(field).schema())) {
      throw error(
          key,
          "field '"
              + field
              + "' is "
              + schema.getField(field).schema()
              + ", which cannot be compared as a number or timestamp");
    }
    return field;
  }

  /** The fields of the schema listed under {@code key}. */
  public List<String> fields(String key) {
    List<String> fields = new ArrayList<>();
    for (Node node : list(key)) {
      String name = scalar(node);
      if (schema.getField(name) == null) {
        throw errorAt(node, "field '" + name + "' is not in schema " + schema.getName());
      }
      fields.add(name);
    }
    return fields;
  }

  /** The values listed under {@code key}, as text. */
  public List<String> values(String key) {
    List<String> values = new ArrayList<>();
    for (Node node : list(key)) {
      values.add(scalar(node));
    }
    return values;
  }

  private List<Node> list(String key) {
    if (!keys.containsKey(key)) {
      throw errorAt(rule, kind + " needs '" + key + "'");
    }
    if (!(keys.get(key) instanceof SequenceNode sequence)) {
      throw errorAt(keys.get(key), key + " must be a list");
    }
    return sequence.getValue();
  }

  /** A number the rule needs. */
  public BigDecimal decimal(String key) {
    String value = required(key);
    try {
      return new BigDecimal(value);
    } catch (NumberFormatException e) {
      throw error(key, key + " must be a number, but was '" + value + "'");
    }
  }

  /** An optional number, or null. */
  public @Nullable BigDecimal optionalDecimal(String key) {
    return keys.containsKey(key) ? decimal(key) : null;
  }

  /** A fraction in [0, 1] the rule needs. */
  public double fraction(String key) {
    double value = decimal(key).doubleValue();
    if (value < 0 || value > 1) {
      throw error(key, key + " must be a fraction in [0, 1], but was " + value);
    }
    return value;
  }

  /** A whole number in [min, max], or {@code otherwise} when absent. */
  public int whole(String key, int min, int max, int otherwise) {
    if (!keys.containsKey(key)) {
      return otherwise;
    }
    BigDecimal n = decimal(key);
    if (n.stripTrailingZeros().scale() > 0
        || n.compareTo(BigDecimal.valueOf(min)) < 0
        || n.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw error(key, key + " must be a whole number in [" + min + ", " + max + "], but was " + n);
    }
    return n.intValueExact();
  }

  /** true or false, or {@code otherwise} when absent. */
  public boolean bool(String key, boolean otherwise) {
    if (!keys.containsKey(key)) {
      return otherwise;
    }
    String value = scalar(keys.get(key));
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw error(key, key + " must be true or false, but was '" + value + "'");
    };
  }

  /** The rule's name: {@code name:} if given, else the kind and what it checks. */
  public String name(String subject) {
    return keys.containsKey("name")
        ? scalar(keys.get("name"))
        : kind + (subject.isEmpty() ? "" : "(" + subject + ")");
  }

  String scalar(Node node) {
    if (!(node instanceof ScalarNode scalar)) {
      throw errorAt(node, "expected a single value");
    }
    return scalar.getValue();
  }
}

package dev.sluice.transforms.rules;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.avro.Schema;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A rules file ({@code --rules=<path>}): one YAML file per dataset, checked at startup against the
 * schema. An unknown rule, field, key or a bad parameter fails with the file and line.
 *
 * <pre>
 * dataset: orders
 * record_rules:
 *   - {rule: not_null, field: customer_id, severity: error}
 *   - {rule: range, field: amount, min: 0, severity: error}
 *   - {rule: accepted_values, field: currency, values: [EUR, USD, JPY], severity: warn}
 * </pre>
 */
public final class RulesFile implements Serializable {
  static final Set<String> RECORD_RULES =
      Set.of("not_null", "range", "regex", "accepted_values", "max_length", "compare");
  static final Set<String> DATASET_RULES =
      Set.of(
          "row_count",
          "null_rate",
          "unique",
          "relationships",
          "freshness",
          "dead_letter_rate",
          "row_count_change",
          "null_rate_change");
  private static final Map<String, Set<String>> DATASET_KEYS =
      Map.of(
          "row_count", Set.of("min", "max"),
          "null_rate", Set.of("field", "max"),
          "unique", Set.of("fields"),
          "relationships", Set.of("field", "to", "column"),
          "freshness", Set.of("field", "max_lag"),
          "dead_letter_rate", Set.of("max"),
          "row_count_change", Set.of("max_drop", "max_rise", "over_last"),
          "null_rate_change", Set.of("field", "max_increase", "over_last"));
  private static final Pattern IDENTIFIER =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");
  private static final Map<String, Set<String>> KEYS =
      Map.of(
          "not_null", Set.of("field"),
          "range", Set.of("field", "min", "max", "inclusive"),
          "regex", Set.of("field", "pattern"),
          "accepted_values", Set.of("field", "values"),
          "max_length", Set.of("field", "max"),
          "compare", Set.of("left", "op", "right"));
  private static final Set<String> COMMON = Set.of("rule", "severity", "mostly", "name");

  private final String dataset;
  private final List<RecordRule> recordRules;
  private final List<DatasetRule> datasetRules;

  private RulesFile(String dataset, List<RecordRule> recordRules, List<DatasetRule> datasetRules) {
    this.dataset = dataset;
    this.recordRules = List.copyOf(recordRules);
    this.datasetRules = List.copyOf(datasetRules);
  }

  public List<DatasetRule> datasetRules() {
    return datasetRules;
  }

  public String dataset() {
    return dataset;
  }

  public List<RecordRule> recordRules() {
    return recordRules;
  }

  /** Thrown for a rules file that does not check out; the message names the file and line. */
  public static final class InvalidRulesException extends IllegalArgumentException {
    InvalidRulesException(String message) {
      super(message);
    }
  }

  public static RulesFile load(Path path, Schema schema) {
    try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      return parse(path.toString(), reader, schema);
    } catch (IOException e) {
      throw new InvalidRulesException("--rules=" + path + " cannot be read: " + e.getMessage());
    }
  }

  static RulesFile parse(String file, Reader reader, Schema schema) {
    Node root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(reader);
    } catch (YAMLException e) {
      throw new InvalidRulesException(file + ": not valid YAML: " + e.getMessage());
    }
    Parser parser = new Parser(file, schema);
    if (!(root instanceof MappingNode mapping)) {
      throw new InvalidRulesException(file + ": expected a mapping with dataset and record_rules");
    }
    String dataset = null;
    List<RecordRule> rules = new ArrayList<>();
    List<DatasetRule> datasetRules = new ArrayList<>();
    for (NodeTuple entry : mapping.getValue()) {
      String key = parser.scalar(entry.getKeyNode());
      switch (key) {
        case "dataset" -> dataset = parser.scalar(entry.getValueNode());
        case "record_rules" -> {
          for (Node rule : parser.sequence(entry.getValueNode(), key)) {
            rules.add(parser.recordRule(rule));
          }
        }
        case "dataset_rules" -> {
          for (Node rule : parser.sequence(entry.getValueNode(), key)) {
            datasetRules.add(parser.datasetRule(rule));
          }
        }
        default ->
            throw parser.error(
                entry.getKeyNode(),
                "unknown key '" + key + "'; expected dataset, record_rules, dataset_rules");
      }
    }
    if (dataset == null) {
      throw new InvalidRulesException(file + ": 'dataset' is missing");
    }
    return new RulesFile(dataset, rules, datasetRules);
  }

  /** Reads nodes, naming the file and line of anything wrong. */
  private static final class Parser {
    private final String file;
    private final Schema schema;
    private final Set<String> names = new HashSet<>();

    Parser(String file, Schema schema) {
      this.file = file;
      this.schema = schema;
    }

    InvalidRulesException error(Node node, String message) {
      return new InvalidRulesException(
          file + " line " + (node.getStartMark().getLine() + 1) + ": " + message);
    }

    String scalar(Node node) {
      if (!(node instanceof ScalarNode scalar)) {
        throw error(node, "expected a single value");
      }
      return scalar.getValue();
    }

    List<Node> sequence(Node node, String key) {
      if (!(node instanceof SequenceNode sequence)) {
        throw error(node, key + " must be a list of rules");
      }
      return sequence.getValue();
    }

    Map<String, Node> mapping(Node node) {
      if (!(node instanceof MappingNode mapping)) {
        throw error(node, "a rule must be a mapping such as {rule: not_null, field: x}");
      }
      Map<String, Node> out = new LinkedHashMap<>();
      for (NodeTuple tuple : mapping.getValue()) {
        out.put(scalar(tuple.getKeyNode()), tuple.getValueNode());
      }
      return out;
    }

    DatasetRule datasetRule(Node node) {
      Map<String, Node> keys = mapping(node);
      Node rule = keys.get("rule");
      if (rule == null) {
        throw error(node, "a rule needs 'rule'");
      }
      String kind = scalar(rule);
      if (!DATASET_RULES.contains(kind)) {
        throw error(rule, "unknown dataset rule '" + kind + "'; known: " + sorted(DATASET_RULES));
      }
      checkKeys(keys, Set.of("rule", "severity", "name"), DATASET_KEYS.get(kind), kind);
      RecordRule.Severity severity = severity(keys);
      List<String> fields = new ArrayList<>();
      Double min = null;
      Double max = null;
      Long maxLag = null;
      String toTable = null;
      String toColumn = null;
      int overLast = 0;
      switch (kind) {
        case "row_count" -> {
          min = keys.containsKey("min") ? decimal(keys.get("min"), "min").doubleValue() : null;
          max = keys.containsKey("max") ? decimal(keys.get("max"), "max").doubleValue() : null;
          if (min == null && max == null) {
            throw error(rule, "row_count needs min, max or both");
          }
        }
        case "null_rate" -> {
          fields.add(field(keys, rule, "field"));
          max =
              decimal(keys.get("max") == null ? missing(rule, "max") : keys.get("max"), "max")
                  .doubleValue();
          if (max < 0 || max > 1) {
            throw error(keys.get("max"), "max must be a fraction in [0, 1], but was " + max);
          }
        }
        case "dead_letter_rate" -> {
          max =
              decimal(keys.get("max") == null ? missing(rule, "max") : keys.get("max"), "max")
                  .doubleValue();
          if (max < 0 || max > 1) {
            throw error(keys.get("max"), "max must be a fraction in [0, 1], but was " + max);
          }
        }
        case "row_count_change" -> {
          min =
              keys.containsKey("max_drop")
                  ? decimal(keys.get("max_drop"), "max_drop").doubleValue()
                  : 1.0;
          max =
              keys.containsKey("max_rise")
                  ? decimal(keys.get("max_rise"), "max_rise").doubleValue()
                  : Double.MAX_VALUE;
          if (!keys.containsKey("max_drop") && !keys.containsKey("max_rise")) {
            throw error(rule, "row_count_change needs max_drop, max_rise or both");
          }
          if (min < 0 || min > 1) {
            throw error(
                keys.get("max_drop"), "max_drop must be a fraction in [0, 1], but was " + min);
          }
          if (max < 1) {
            throw error(
                keys.get("max_rise"), "max_rise must be a factor of at least 1, but was " + max);
          }
          overLast = overLast(keys);
        }
        case "null_rate_change" -> {
          fields.add(field(keys, rule, "field"));
          max =
              decimal(
                      keys.get("max_increase") == null
                          ? missing(rule, "max_increase")
                          : keys.get("max_increase"),
                      "max_increase")
                  .doubleValue();
          if (max < 0 || max > 1) {
            throw error(
                keys.get("max_increase"),
                "max_increase must be a fraction in [0, 1], but was " + max);
          }
          overLast = overLast(keys);
        }
        case "unique" -> {
          Node list = keys.get("fields");
          if (list == null) {
            missing(rule, "fields");
          }
          for (Node field : sequence(list, "fields")) {
            String name = scalar(field);
            if (schema.getField(name) == null) {
              throw error(field, "field '" + name + "' is not in schema " + schema.getName());
            }
            fields.add(name);
          }
        }
        case "relationships" -> {
          String field = field(keys, rule, "field");
          Schema.Type type = RecordRule.nonNull(schema.getField(field).schema()).getType();
          if (type != Schema.Type.LONG && type != Schema.Type.INT && type != Schema.Type.STRING) {
            throw error(
                keys.get("field"),
                "relationships needs a long, int or string field, but " + field + " is " + type);
          }
          fields.add(field);
          toTable = required(keys, rule, "to");
          if (!IDENTIFIER.matcher(toTable).matches()) {
            throw error(
                keys.get("to"),
                "to must be a table name (table or schema.table), but was '" + toTable + "'");
          }
          String schemaOfTo =
              toTable.contains(".") ? toTable.substring(0, toTable.indexOf('.')) : "";
          if (schemaOfTo.equalsIgnoreCase("pg_catalog")
              || schemaOfTo.equalsIgnoreCase("information_schema")
              || toTable.toLowerCase(Locale.ROOT).startsWith("pg_")) {
            throw error(
                keys.get("to"),
                "to must be a table of the data, not of the system catalogs, but was '"
                    + toTable
                    + "'");
          }
          toColumn = keys.containsKey("column") ? scalar(keys.get("column")) : field;
          if (!IDENTIFIER.matcher(toColumn).matches() || toColumn.contains(".")) {
            throw error(
                keys.containsKey("column") ? keys.get("column") : rule,
                "column must be a column name, but was '" + toColumn + "'");
          }
        }
        default -> {
          String field = field(keys, rule, "field");
          if (!(RecordRule.nonNull(schema.getField(field).schema()).getLogicalType()
              instanceof org.apache.avro.LogicalTypes.TimestampMillis)) {
            throw error(
                keys.get("field"),
                "freshness needs a timestamp-millis field, but " + field + " is not");
          }
          fields.add(field);
          String lag = required(keys, rule, "max_lag");
          try {
            maxLag = Duration.parse(lag).toMillis();
          } catch (DateTimeParseException e) {
            throw error(
                keys.get("max_lag"),
                "max_lag must be an ISO-8601 duration such as PT2H, but was '" + lag + "'");
          }
        }
      }
      String name =
          keys.containsKey("name")
              ? scalar(keys.get("name"))
              : kind + (fields.isEmpty() ? "" : "(" + String.join(",", fields) + ")");
      if (!names.add(name)) {
        throw error(rule, "rule name '" + name + "' is used twice; give one a 'name'");
      }
      return switch (kind) {
        case "row_count" -> new DatasetRule.RowCount(name, severity, min, max);
        case "null_rate" -> new DatasetRule.NullRate(name, severity, fields.get(0), max);
        case "unique" -> new DatasetRule.Unique(name, severity, fields);
        case "relationships" ->
            new DatasetRule.Relationships(name, severity, fields.get(0), toTable, toColumn);
        case "dead_letter_rate" -> new DatasetRule.DeadLetterRate(name, severity, max);
        case "row_count_change" ->
            new DatasetRule.RowCountChange(name, severity, min, max, overLast);
        case "null_rate_change" ->
            new DatasetRule.NullRateChange(name, severity, fields.get(0), max, overLast);
        default -> new DatasetRule.Freshness(name, severity, fields.get(0), maxLag);
      };
    }

    /** {@code over_last}: how many earlier runs a change rule compares with (default 7). */
    private int overLast(Map<String, Node> keys) {
      if (!keys.containsKey("over_last")) {
        return 7;
      }
      java.math.BigDecimal n = decimal(keys.get("over_last"), "over_last");
      if (n.scale() > 0 && n.stripTrailingZeros().scale() > 0
          || n.intValue() < 1
          || n.intValue() > 1000) {
        throw error(
            keys.get("over_last"),
            "over_last must be a whole number of runs in [1, 1000], but was " + n);
      }
      return n.intValue();
    }

    private RecordRule.Severity severity(Map<String, Node> keys) {
      if (!keys.containsKey("severity")) {
        return RecordRule.Severity.ERROR;
      }
      String value = scalar(keys.get("severity"));
      try {
        return RecordRule.Severity.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw error(
            keys.get("severity"), "severity must be error or warn, but was '" + value + "'");
      }
    }

    RecordRule recordRule(Node node) {
      Map<String, Node> keys = mapping(node);
      Node ruleNode = keys.get("rule");
      if (ruleNode == null) {
        throw error(node, "a rule needs 'rule', one of " + sorted(RECORD_RULES));
      }
      String kind = scalar(ruleNode);
      if (!RECORD_RULES.contains(kind)) {
        throw error(ruleNode, "unknown record rule '" + kind + "'; known: " + sorted(RECORD_RULES));
      }
      checkKeys(keys, COMMON, KEYS.get(kind), kind);
      RecordRule.Severity severity = RecordRule.Severity.ERROR;
      if (keys.containsKey("severity")) {
        String value = scalar(keys.get("severity"));
        try {
          severity = RecordRule.Severity.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw error(
              keys.get("severity"), "severity must be error or warn, but was '" + value + "'");
        }
      }
      Double mostly = null;
      if (keys.containsKey("mostly")) {
        mostly = decimal(keys.get("mostly"), "mostly").doubleValue();
        if (mostly <= 0 || mostly > 1) {
          throw error(keys.get("mostly"), "mostly must be a fraction in (0, 1], but was " + mostly);
        }
      }
      RecordRule.Check check;
      String subject;
      switch (kind) {
        case "not_null" -> {
          subject = field(keys, ruleNode, "field");
          check = RecordRule.notNull(subject);
        }
        case "range" -> {
          subject = comparableField(keys, ruleNode, "field");
          BigDecimal min = keys.containsKey("min") ? decimal(keys.get("min"), "min") : null;
          BigDecimal max = keys.containsKey("max") ? decimal(keys.get("max"), "max") : null;
          if (min == null && max == null) {
            throw error(ruleNode, "range needs min, max or both");
          }
          if (min != null && max != null && min.compareTo(max) > 0) {
            throw error(ruleNode, "range has min " + min + " above max " + max);
          }
          boolean inclusive =
              !keys.containsKey("inclusive") || bool(keys.get("inclusive"), "inclusive");
          check = RecordRule.range(schema, subject, min, max, inclusive, inclusive);
        }
        case "regex" -> {
          subject = field(keys, ruleNode, "field");
          String pattern = required(keys, ruleNode, "pattern");
          try {
            Pattern.compile(pattern);
          } catch (PatternSyntaxException e) {
            throw error(
                keys.get("pattern"),
                "pattern is not a valid regular expression: " + e.getDescription());
          }
          check = RecordRule.regex(subject, pattern);
        }
        case "accepted_values" -> {
          subject = field(keys, ruleNode, "field");
          Node values = keys.get("values");
          if (values == null) {
            throw error(ruleNode, "accepted_values needs 'values'");
          }
          List<String> accepted = new ArrayList<>();
          for (Node value : sequence(values, "values")) {
            accepted.add(scalar(value));
          }
          check = RecordRule.acceptedValues(subject, accepted);
        }
        case "max_length" -> {
          subject = field(keys, ruleNode, "field");
          BigDecimal max =
              decimal(keys.get("max") == null ? missing(ruleNode, "max") : keys.get("max"), "max");
          if (max.signum() < 0
              || max.stripTrailingZeros().scale() > 0
              || max.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
            throw error(
                keys.get("max"),
                "max must be a whole number from 0 to " + Integer.MAX_VALUE + ", but was " + max);
          }
          check = RecordRule.maxLength(subject, max.intValueExact());
        }
        default -> {
          String left = comparableField(keys, ruleNode, "left");
          String right = comparableField(keys, ruleNode, "right");
          String op = required(keys, ruleNode, "op");
          if (!Set.of("<", "<=", ">", ">=", "==", "!=").contains(op)) {
            throw error(
                keys.get("op"), "op must be one of <, <=, >, >=, ==, !=, but was '" + op + "'");
          }
          subject = left + op + right;
          check = RecordRule.compare(schema, left, op, right);
        }
      }
      String name =
          keys.containsKey("name") ? scalar(keys.get("name")) : kind + "(" + subject + ")";
      if (!names.add(name)) {
        throw error(ruleNode, "rule name '" + name + "' is used twice; give one a 'name'");
      }
      return new RecordRule(name, kind, severity, mostly, check);
    }

    private Node missing(Node rule, String key) {
      throw error(rule, "rule needs '" + key + "'");
    }

    /** Refuses a key that is neither common to all rules nor one of this kind's own. */
    private void checkKeys(
        Map<String, Node> keys, Set<String> common, Set<String> own, String kind) {
      for (Map.Entry<String, Node> key : keys.entrySet()) {
        if (!common.contains(key.getKey()) && !own.contains(key.getKey())) {
          throw error(
              key.getValue(),
              "unknown key '" + key.getKey() + "' for rule " + kind + "; expected " + sorted(own));
        }
      }
    }

    private String required(Map<String, Node> keys, Node rule, String key) {
      Node node = keys.get(key);
      if (node == null) {
        missing(rule, key);
      }
      return scalar(node);
    }

    private String field(Map<String, Node> keys, Node rule, String key) {
      String field = required(keys, rule, key);
      if (schema.getField(field) == null) {
        throw error(
            keys.get(key),
            "field '"
                + field
                + "' is not in schema "
                + schema.getName()
                + "; fields: "
                + schema.getFields().stream().map(Schema.Field::name).toList());
      }
      return field;
    }

    private String comparableField(Map<String, Node> keys, Node rule, String key) {
      String field = field(keys, rule, key);
      if (!RecordRule.isComparable(schema.getField(field).schema())) {
        throw error(
            keys.get(key),
            "field '"
                + field
                + "' is "
                + schema.getField(field).schema()
                + ", which cannot be compared as a number or timestamp");
      }
      return field;
    }

    private BigDecimal decimal(Node node, String key) {
      String value = scalar(node);
      try {
        return new BigDecimal(value);
      } catch (NumberFormatException e) {
        throw error(node, key + " must be a number, but was '" + value + "'");
      }
    }

    private boolean bool(Node node, String key) {
      String value = scalar(node);
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> throw error(node, key + " must be true or false, but was '" + value + "'");
      };
    }

    private static List<String> sorted(Set<String> values) {
      return values.stream().sorted().toList();
    }
  }

  /** For messages: the file a rule set came from, or the dataset name. */
  @Override
  public String toString() {
    return "RulesFile{" + dataset + ", " + recordRules.size() + " record rules}";
  }
}

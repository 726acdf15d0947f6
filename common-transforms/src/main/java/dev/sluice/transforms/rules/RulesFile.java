package dev.sluice.transforms.rules;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
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
  /** The record rule kinds, by name: one class each, found as services. */
  private static final Map<String, RecordRuleKind> RECORD_KINDS =
      kinds(RecordRuleKind.class, RecordRuleKind::name);

  /** The dataset rule kinds, by name: one class each, found as services. */
  private static final Map<String, DatasetRuleKind> DATASET_KINDS =
      kinds(DatasetRuleKind.class, DatasetRuleKind::name);

  private static final Set<String> RECORD_COMMON = Set.of("rule", "severity", "mostly", "name");
  private static final Set<String> DATASET_COMMON = Set.of("rule", "severity", "name");

  private static <K> Map<String, K> kinds(Class<K> type, Function<K, String> name) {
    Map<String, K> kinds = new TreeMap<>();
    for (K kind : ServiceLoader.load(type, RulesFile.class.getClassLoader())) {
      K other = kinds.put(name.apply(kind), kind);
      if (other != null) {
        throw new IllegalStateException(
            "two rule kinds are named "
                + name.apply(kind)
                + ": "
                + other.getClass().getName()
                + " and "
                + kind.getClass().getName());
      }
    }
    return kinds;
  }

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

    /** The rule's kind and its spec, once its keys are checked against the kind's own. */
    private RuleSpec spec(
        Node node,
        String scope,
        Set<String> known,
        Set<String> common,
        Function<String, Set<String>> own) {
      Map<String, Node> keys = mapping(node);
      Node rule = keys.get("rule");
      if (rule == null) {
        throw error(node, "a rule needs 'rule', one of " + known);
      }
      String kind = scalar(rule);
      if (!known.contains(kind)) {
        throw error(rule, "unknown " + scope + " rule '" + kind + "'; known: " + known);
      }
      for (Map.Entry<String, Node> key : keys.entrySet()) {
        if (!common.contains(key.getKey()) && !own.apply(kind).contains(key.getKey())) {
          throw error(
              key.getValue(),
              "unknown key '"
                  + key.getKey()
                  + "' for rule "
                  + kind
                  + "; expected "
                  + new TreeSet<>(own.apply(kind)));
        }
      }
      return new RuleSpec(file, schema, kind, rule, keys);
    }

    private String unique(String name, RuleSpec spec) {
      if (!names.add(name)) {
        throw spec.error("rule name '" + name + "' is used twice; give one a 'name'");
      }
      return name;
    }

    DatasetRule datasetRule(Node node) {
      RuleSpec spec =
          spec(
              node,
              "dataset",
              DATASET_KINDS.keySet(),
              DATASET_COMMON,
              k -> DATASET_KINDS.get(k).keys());
      DatasetRule rule = DATASET_KINDS.get(spec.kind()).parse(spec, severity(spec));
      unique(rule.name(), spec);
      return rule;
    }

    RecordRule recordRule(Node node) {
      RuleSpec spec =
          spec(
              node,
              "record",
              RECORD_KINDS.keySet(),
              RECORD_COMMON,
              k -> RECORD_KINDS.get(k).keys());
      RecordRule.Severity severity = severity(spec);
      Double mostly = null;
      if (spec.has("mostly")) {
        mostly = spec.decimal("mostly").doubleValue();
        if (mostly <= 0 || mostly > 1) {
          throw spec.error("mostly", "mostly must be a fraction in (0, 1], but was " + mostly);
        }
      }
      RecordRule.Check check = RECORD_KINDS.get(spec.kind()).parse(spec);
      String name = unique(spec.name(check.subject()), spec);
      return new RecordRule(name, spec.kind(), severity, mostly, check);
    }

    private static RecordRule.Severity severity(RuleSpec spec) {
      String value = spec.text("severity", "error");
      try {
        return RecordRule.Severity.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw spec.error("severity", "severity must be error or warn, but was '" + value + "'");
      }
    }
  }

  /** For messages: the file a rule set came from, or the dataset name. */
  @Override
  public String toString() {
    return "RulesFile{" + dataset + ", " + recordRules.size() + " record rules}";
  }
}

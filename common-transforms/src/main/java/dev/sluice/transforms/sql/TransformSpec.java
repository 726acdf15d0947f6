package dev.sluice.transforms.sql;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The transform of a run, as written: one {@code --sql} query, or the named steps of a {@code
 * --transform} file. A step is a {@code sql:} query over {@code input}, or a mapping ({@code
 * rename}, {@code cast}, {@code drop}, {@code derive}, {@code filter}) that {@link #sql} turns into
 * one, given the columns the step receives.
 */
public record TransformSpec(List<Step> steps) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,62}");
  private static final Set<String> MAPPING_KEYS =
      Set.of("rename", "cast", "drop", "derive", "filter");

  public TransformSpec {
    steps = List.copyOf(steps);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a transform needs at least one step");
    }
  }

  /**
   * One named step: a query, or a mapping of the columns it receives.
   *
   * @param sql the query, or null for a mapping
   * @param rename input column to output name
   * @param cast input column to SQL type (e.g. {@code VARCHAR}, {@code DECIMAL(12,2)})
   * @param drop input columns left out
   * @param derive new column to SQL expression over the input columns
   * @param filter the condition a row must meet (SQL over the input columns), or null
   */
  public record Step(
      String name,
      @Nullable String sql,
      Map<String, String> rename,
      Map<String, String> cast,
      List<String> drop,
      Map<String, String> derive,
      @Nullable String filter) {
    public Step {
      rename = new LinkedHashMap<>(rename);
      cast = new LinkedHashMap<>(cast);
      drop = List.copyOf(drop);
      derive = new LinkedHashMap<>(derive);
    }

    /** The query this step runs over {@code columns}, the columns it receives in order. */
    public String sql(List<String> columns) {
      if (sql != null) {
        return sql;
      }
      List<String> unknown = new ArrayList<>();
      for (String column : concat(rename.keySet(), cast.keySet(), drop)) {
        if (!columns.contains(column)) {
          unknown.add(column);
        }
      }
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException(
            "transform step '"
                + name
                + "' names "
                + unknown
                + ", which it does not receive: its columns are "
                + columns);
      }
      List<String> items = new ArrayList<>();
      Set<String> names = new HashSet<>();
      for (String column : columns) {
        if (drop.contains(column) || column.equals(SqlRows.SOURCE)) {
          continue;
        }
        String expression =
            cast.containsKey(column)
                ? "CAST(" + quote(column) + " AS " + cast.get(column) + ")"
                : quote(column);
        String output = rename.getOrDefault(column, column);
        items.add(expression + " AS " + quote(output));
        names.add(output);
      }
      derive.forEach(
          (column, expression) -> {
            if (!names.add(column)) {
              throw new IllegalArgumentException(
                  "transform step '" + name + "' derives " + column + ", which it has already");
            }
            items.add("(" + expression + ") AS " + quote(column));
          });
      return "SELECT "
          + String.join(", ", items)
          + " FROM input"
          + (filter == null ? "" : " WHERE " + filter);
    }
  }

  @SafeVarargs
  private static List<String> concat(java.util.Collection<String>... parts) {
    List<String> all = new ArrayList<>();
    for (java.util.Collection<String> part : parts) {
      all.addAll(part);
    }
    return all;
  }

  static String quote(String column) {
    return "`" + column.replace("`", "``") + "`";
  }

  /** The transform of {@code --sql}: one step named {@code sql}. */
  public static TransformSpec ofSql(String sql) {
    return new TransformSpec(
        List.of(new Step("sql", sql, Map.of(), Map.of(), List.of(), Map.of(), null)));
  }

  /** The transform of a {@code --transform} file. */
  public static TransformSpec load(String file) {
    try (Reader reader = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
      return parse(file, new Yaml(new SafeConstructor(new LoaderOptions())).load(reader));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--transform " + file + " cannot be read: " + e.getMessage(), e);
    } catch (org.yaml.snakeyaml.error.YAMLException e) {
      throw new IllegalArgumentException(
          "--transform " + file + " is not valid YAML: " + e.getMessage(), e);
    }
  }

  static TransformSpec parse(String file, Object yaml) {
    if (!(yaml instanceof Map<?, ?> root) || !(root.get("steps") instanceof List<?> list)) {
      throw new IllegalArgumentException(
          "--transform " + file + " must be a mapping with a list of steps: steps: [...]");
    }
    for (Object key : root.keySet()) {
      if (!"steps".equals(key)) {
        throw new IllegalArgumentException(
            "--transform " + file + " has an unknown key '" + key + "' (only steps)");
      }
    }
    List<Step> steps = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> step)) {
        throw new IllegalArgumentException(
            "--transform " + file + ": step " + (i + 1) + " must be a mapping");
      }
      String where = "--transform " + file + ": step " + (i + 1);
      Object name = step.get("name");
      if (!(name instanceof String n) || !NAME.matcher(n).matches()) {
        throw new IllegalArgumentException(
            where
                + " needs a name of letters, digits and _ (starting with a letter), but has "
                + (name == null ? "none" : "'" + name + "'"));
      }
      if (!names.add(n.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException(where + ": the name '" + n + "' is used twice");
      }
      where = "--transform " + file + ": step '" + n + "'";
      for (Object key : step.keySet()) {
        if (!"name".equals(key) && !"sql".equals(key) && !MAPPING_KEYS.contains(key)) {
          throw new IllegalArgumentException(
              where
                  + " has an unknown key '"
                  + key
                  + "' (a step is name and sql, or name and rename, cast, drop, derive, filter)");
        }
      }
      boolean mapping = step.keySet().stream().anyMatch(MAPPING_KEYS::contains);
      if (step.containsKey("sql") == mapping) {
        throw new IllegalArgumentException(
            where
                + (mapping
                    ? " mixes sql with mapping keys: make them two steps"
                    : " needs sql, or rename, cast, drop, derive or filter"));
      }
      steps.add(
          new Step(
              n,
              text(where, "sql", step.get("sql")),
              strings(where, "rename", step.get("rename")),
              strings(where, "cast", step.get("cast")),
              list(where, "drop", step.get("drop")),
              strings(where, "derive", step.get("derive")),
              text(where, "filter", step.get("filter"))));
    }
    return new TransformSpec(steps);
  }

  private static @Nullable String text(String where, String key, @Nullable Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException(where + ": " + key + " must be text, but is " + value);
    }
    return s;
  }

  private static Map<String, String> strings(String where, String key, @Nullable Object value) {
    Map<String, String> out = new LinkedHashMap<>();
    if (value == null) {
      return out;
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException(
          where + ": " + key + " must map column names to text, but is " + value);
    }
    map.forEach(
        (k, v) -> {
          if (!(k instanceof String) || v == null) {
            throw new IllegalArgumentException(
                where + ": " + key + " must map column names to text, but has " + k + ": " + v);
          }
          out.put((String) k, String.valueOf(v));
        });
    return out;
  }

  private static List<String> list(String where, String key, @Nullable Object value) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> items) || !items.stream().allMatch(String.class::isInstance)) {
      throw new IllegalArgumentException(
          where + ": " + key + " must be a list of column names, but is " + value);
    }
    return items.stream().map(String.class::cast).toList();
  }
}

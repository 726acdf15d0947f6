package dev.sluice.pipelines;

import dev.sluice.pipelines.plan.SluicePipeline;
import java.beans.Introspector;
import java.lang.reflect.Method;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Hidden;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * The options of a pipeline as documented by their annotations: the one source for {@code --help},
 * the README tables and template metadata. Only Sluice's own option interfaces are listed; Beam's
 * and the runners' options are documented by Beam.
 */
public final class OptionsDoc {
  /**
   * One option.
   *
   * @param name the flag without dashes, e.g. {@code input}
   * @param type simple name of its Java type
   * @param description from {@code @Description}
   * @param required whether {@code @Validation.Required} is set
   * @param defaultValue the {@code @Default.*} value as text, or null
   */
  public record Option(
      String name,
      String type,
      String description,
      boolean required,
      @Nullable String defaultValue) {}

  private OptionsDoc() {}

  /** Sluice's options of an options interface: the required ones first, then by name. */
  public static List<Option> of(Class<? extends PipelineOptions> optionsClass) {
    Map<String, Option> options = new LinkedHashMap<>();
    for (Class<?> iface : sluiceInterfaces(optionsClass)) {
      for (Method method : iface.getDeclaredMethods()) {
        String property = property(method);
        if (property == null
            || options.containsKey(property)
            || method.isAnnotationPresent(Hidden.class)) {
          continue;
        }
        Description description = method.getAnnotation(Description.class);
        options.put(
            property,
            new Option(
                property,
                typeOf(method.getReturnType()),
                description == null ? "" : description.value(),
                method.isAnnotationPresent(Validation.Required.class),
                defaultValue(method)));
      }
    }
    List<Option> sorted = new ArrayList<>(options.values());
    sorted.sort(Comparator.comparing((Option o) -> !o.required()).thenComparing(Option::name));
    return List.copyOf(sorted);
  }

  /** Names of the options of {@code optionsClass}, Beam's and runners' excluded. */
  public static Set<String> names(Class<? extends PipelineOptions> optionsClass) {
    Set<String> names = new LinkedHashSet<>();
    of(optionsClass).forEach(o -> names.add(o.name()));
    return names;
  }

  /**
   * The options table of a pipeline's documentation page (Markdown): option, required, default and
   * description, as {@code --help} gives them.
   */
  public static String markdown(Class<? extends PipelineOptions> optionsClass) {
    StringBuilder out = new StringBuilder();
    out.append("| option | required | default | description |\n|---|---|---|---|\n");
    for (Option option : of(optionsClass)) {
      out.append("| `--")
          .append(option.name())
          .append("` | ")
          .append(option.required() ? "yes" : "")
          .append(" | ")
          .append(
              option.defaultValue() == null || option.defaultValue().isEmpty()
                  ? ""
                  : "`" + option.defaultValue().replace("|", "\\|") + "`")
          .append(" | ")
          .append(markdownText(option.description()))
          .append(" |\n");
    }
    return out.toString();
  }

  /** Text for a Markdown table cell: no cell breaks, no line breaks, no tags ({@code <dir>}). */
  private static String markdownText(String text) {
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** The {@code --help} text of a pipeline. */
  public static String help(SluicePipeline<?, ?> pipeline) {
    StringBuilder out = new StringBuilder();
    out.append(pipeline.name()).append(": ").append(pipeline.description()).append("\n\n");
    out.append(pipeline.lineage()).append("\n\nOptions (* = required):\n");
    for (Option option : of(pipeline.optionsClass())) {
      out.append(
          String.format(
              "  %s --%s=<%s>%n", option.required() ? "*" : " ", option.name(), option.type()));
      out.append("        ").append(option.description());
      if (option.defaultValue() != null) {
        out.append(" (default: ").append(option.defaultValue()).append(')');
      }
      out.append('\n');
    }
    out.append(
        "\nRunner: --runner=DirectRunner (default) | FlinkRunner | DataflowRunner, with Beam's"
            + " options of that runner (e.g. --flinkMaster, --parallelism).\n");
    return out.toString();
  }

  private static List<Class<?>> sluiceInterfaces(Class<?> root) {
    List<Class<?>> out = new ArrayList<>();
    Deque<Class<?>> queue = new ArrayDeque<>(List.of(root));
    Set<Class<?>> seen = new LinkedHashSet<>();
    while (!queue.isEmpty()) {
      Class<?> next = queue.removeFirst();
      if (!seen.add(next) || !next.getName().startsWith("dev.sluice.")) {
        continue;
      }
      out.add(next);
      queue.addAll(Arrays.asList(next.getInterfaces()));
    }
    return out;
  }

  private static String property(Method method) {
    if (method.getParameterCount() != 0 || method.isDefault()) {
      return null;
    }
    String name = method.getName();
    if (name.startsWith("get") && name.length() > 3) {
      return Introspector.decapitalize(name.substring(3));
    }
    if (name.startsWith("is") && name.length() > 2) {
      return Introspector.decapitalize(name.substring(2));
    }
    return null;
  }

  /** How a value is written: {@code String}, {@code csv|json} for a choice, {@code String,...}. */
  private static String typeOf(Class<?> type) {
    if (type.isEnum()) {
      return String.join(
          "|", Arrays.stream(type.getEnumConstants()).map(c -> ((Enum<?>) c).name()).toList());
    }
    return List.class.isAssignableFrom(type) ? "String,..." : type.getSimpleName();
  }

  private static String defaultValue(Method method) {
    if (method.getAnnotation(Default.String.class) != null) {
      return method.getAnnotation(Default.String.class).value();
    }
    if (method.getAnnotation(Default.Integer.class) != null) {
      return String.valueOf(method.getAnnotation(Default.Integer.class).value());
    }
    if (method.getAnnotation(Default.Long.class) != null) {
      return String.valueOf(method.getAnnotation(Default.Long.class).value());
    }
    if (method.getAnnotation(Default.Boolean.class) != null) {
      return String.valueOf(method.getAnnotation(Default.Boolean.class).value());
    }
    if (method.getAnnotation(Default.Double.class) != null) {
      return String.valueOf(method.getAnnotation(Default.Double.class).value());
    }
    if (method.getAnnotation(Default.Enum.class) != null) {
      return method.getAnnotation(Default.Enum.class).value();
    }
    Default.InstanceFactory factory = method.getAnnotation(Default.InstanceFactory.class);
    if (factory != null) {
      try {
        Object value = factory.value().getDeclaredConstructor().newInstance().create(null);
        return value instanceof List<?> list
            ? String.join(",", list.stream().map(String::valueOf).toList())
            : String.valueOf(value);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("Cannot make the default of " + method, e);
      }
    }
    return null;
  }

  /**
   * The arguments with each value of an option that takes one of a set of names (an enum) written
   * as that name, whatever its case; a value that is none of them fails naming the flag, the names
   * and the value. Beam then parses them as it parses every option.
   */
  public static String[] normalizeChoices(
      Class<? extends PipelineOptions> optionsClass, String[] args) {
    Map<String, Class<?>> choices = new LinkedHashMap<>();
    for (Class<?> iface : sluiceInterfaces(optionsClass)) {
      for (Method method : iface.getDeclaredMethods()) {
        String property = property(method);
        if (property != null && method.getReturnType().isEnum()) {
          choices.putIfAbsent(property, method.getReturnType());
        }
      }
    }
    String[] normalized = args.clone();
    for (int i = 0; i < args.length; i++) {
      String[] nameValue = args[i].startsWith("--") ? args[i].substring(2).split("=", 2) : null;
      if (nameValue == null || nameValue.length < 2 || !choices.containsKey(nameValue[0])) {
        continue;
      }
      List<String> names = new ArrayList<>();
      String match = null;
      for (Object constant : choices.get(nameValue[0]).getEnumConstants()) {
        String name = ((Enum<?>) constant).name();
        names.add(name);
        if (name.equalsIgnoreCase(nameValue[1].strip())) {
          match = name;
        }
      }
      if (match == null) {
        throw new IllegalArgumentException(
            "--"
                + nameValue[0]
                + " must be one of "
                + String.join(", ", names)
                + ", but was '"
                + nameValue[1]
                + "'");
      }
      normalized[i] = "--" + nameValue[0] + "=" + match;
    }
    return normalized;
  }
}

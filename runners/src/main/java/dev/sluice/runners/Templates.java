package dev.sluice.runners;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.options.OptionPattern;
import dev.sluice.pipelines.plan.SluicePipeline;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Dataflow Flex Template files of a pipeline, generated from its options' annotations (the same
 * source as {@code --help} and the README): {@code metadata.json} (name, description, parameters
 * with label, help text, optional flag, regexes, type), a {@code Dockerfile} for the Java launcher
 * image, and a {@code README.md} with the {@code gcloud dataflow flex-template build/run} commands.
 */
final class Templates {
  static final String MAIN_CLASS = FlexTemplateMain.class.getName();
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Templates() {}

  /** Writes the template files of {@code pipeline} under {@code dir/<pipeline>/}. */
  static List<Path> write(SluicePipeline<?, ?> pipeline, Path dir) throws IOException {
    Path target = Files.createDirectories(dir.resolve(pipeline.name()));
    List<Path> written = new ArrayList<>();
    written.add(
        Files.writeString(
            target.resolve("metadata.json"),
            JSON.writeValueAsString(metadata(pipeline)),
            StandardCharsets.UTF_8));
    written.add(
        Files.writeString(
            target.resolve("Dockerfile"), dockerfile(pipeline), StandardCharsets.UTF_8));
    written.add(
        Files.writeString(target.resolve("README.md"), readme(pipeline), StandardCharsets.UTF_8));
    return written;
  }

  static ObjectNode metadata(SluicePipeline<?, ?> pipeline) {
    ObjectNode root = JSON.createObjectNode();
    root.put("name", pipeline.name());
    root.put("description", pipeline.description() + ". " + pipeline.lineage());
    ArrayNode parameters = root.putArray("parameters");
    for (OptionsDoc.Option option : OptionsDoc.of(pipeline.optionsClass())) {
      ObjectNode parameter = parameters.addObject();
      parameter.put("name", option.name());
      parameter.put("label", label(option.name()));
      parameter.put(
          "helpText",
          option.description()
              + (option.defaultValue() == null ? "" : " Default: " + option.defaultValue() + "."));
      parameter.put("isOptional", !option.required());
      String regex = pattern(pipeline, option.name());
      if (regex != null) {
        parameter.putArray("regexes").add(regex);
      }
      parameter.put("paramType", "TEXT");
    }
    return root;
  }

  /** The {@link OptionPattern} of an option's getter, if it has one. */
  private static String pattern(SluicePipeline<?, ?> pipeline, String option) {
    String getter = "get" + Character.toUpperCase(option.charAt(0)) + option.substring(1);
    try {
      Method method = pipeline.optionsClass().getMethod(getter);
      OptionPattern pattern = method.getAnnotation(OptionPattern.class);
      return pattern == null ? null : pattern.value();
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  /** {@code deadLetterJdbcUrl} → {@code Dead letter jdbc url}. */
  static String label(String name) {
    String spaced = name.replaceAll("([a-z0-9])([A-Z])", "$1 $2").toLowerCase(Locale.ROOT);
    return Character.toUpperCase(spaced.charAt(0)) + spaced.substring(1);
  }

  static String dockerfile(SluicePipeline<?, ?> pipeline) {
    return String.join(
        "\n",
        "# Flex Template launcher image of Sluice's " + pipeline.name() + ".",
        "# Build the bundle first (see README.md next to this file).",
        "FROM gcr.io/dataflow-templates-base/java17-template-launcher-base:latest",
        "ARG WORKDIR=/template",
        "WORKDIR ${WORKDIR}",
        "COPY sluice-bundle.jar ${WORKDIR}/sluice-bundle.jar",
        "ENV FLEX_TEMPLATE_JAVA_CLASSPATH=${WORKDIR}/sluice-bundle.jar",
        "ENV FLEX_TEMPLATE_JAVA_MAIN_CLASS=" + MAIN_CLASS,
        "ENV " + FlexTemplateMain.PIPELINE_ENV + "=" + pipeline.name(),
        "");
  }

  static String readme(SluicePipeline<?, ?> pipeline) {
    StringBuilder parameters = new StringBuilder();
    for (OptionsDoc.Option option : OptionsDoc.of(pipeline.optionsClass())) {
      if (option.required()) {
        parameters.append(parameters.length() == 0 ? "" : ",").append(option.name()).append("=...");
      }
    }
    return String.join(
        "\n",
        "# " + pipeline.name() + " as a Dataflow Flex Template",
        "",
        pipeline.lineage(),
        "",
        "```bash",
        "# the image, from this directory (sluice-bundle.jar: the launcher with its dependencies)",
        "gcloud builds submit --tag \"$REGION-docker.pkg.dev/$PROJECT/sluice/"
            + pipeline.name()
            + ":latest\" .",
        "gcloud dataflow flex-template build \"gs://$BUCKET/templates/"
            + pipeline.name()
            + ".json\" \\",
        "  --image \"$REGION-docker.pkg.dev/$PROJECT/sluice/" + pipeline.name() + ":latest\" \\",
        "  --sdk-language JAVA --metadata-file metadata.json",
        "gcloud dataflow flex-template run \"" + pipeline.name() + "-$(date +%Y%m%d-%H%M%S)\" \\",
        "  --template-file-gcs-location \"gs://$BUCKET/templates/" + pipeline.name() + ".json\" \\",
        "  --region \"$REGION\" --parameters " + parameters,
        "```",
        "",
        "Secrets are passed as references (`env:NAME`, `file:PATH`), never as values.",
        "");
  }
}

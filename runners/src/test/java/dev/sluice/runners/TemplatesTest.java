package dev.sluice.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.plan.SluicePipeline;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplatesTest {
  @Test
  void everyOptionOfEveryPipelineIsATemplateParameterWithItsRequiredFlag(@TempDir Path dir)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        new Launcher(new PrintStream(out, true, StandardCharsets.UTF_8), System.err)
            .execute("template", "--output=" + dir);
    assertThat(code, is(Launcher.OK));
    for (SluicePipeline<?, ?> pipeline : PipelineCatalog.all()) {
      Path folder = dir.resolve(pipeline.name());
      JsonNode metadata = new ObjectMapper().readTree(folder.resolve("metadata.json").toFile());
      assertThat(metadata.get("name").asText(), equalTo(pipeline.name()));
      Map<String, Boolean> optional = new LinkedHashMap<>();
      metadata
          .get("parameters")
          .forEach(p -> optional.put(p.get("name").asText(), p.get("isOptional").asBoolean()));
      Map<String, Boolean> expected = new LinkedHashMap<>();
      for (OptionsDoc.Option option : OptionsDoc.of(pipeline.optionsClass())) {
        expected.put(option.name(), !option.required());
      }
      assertThat(pipeline.name(), optional, equalTo(expected));
      assertThat(
          Files.readString(folder.resolve("Dockerfile")),
          containsString("ENV FLEX_TEMPLATE_JAVA_MAIN_CLASS=dev.sluice.runners.FlexTemplateMain"));
      assertThat(
          Files.readString(folder.resolve("Dockerfile")),
          containsString("ENV SLUICE_PIPELINE=" + pipeline.name()));
      assertThat(
          Files.readString(folder.resolve("README.md")),
          containsString("gcloud dataflow flex-template run"));
      assertThat(
          out.toString(StandardCharsets.UTF_8),
          containsString(folder.resolve("metadata.json").toString()));
    }
  }

  @Test
  void validatedOptionsCarryTheirRegexAndItAcceptsWhatThePipelineAccepts(@TempDir Path dir)
      throws Exception {
    SluicePipeline<?, ?> kafkaToJdbc = PipelineCatalog.byName("kafka-to-jdbc").orElseThrow();
    JsonNode parameters = Templates.metadata(kafkaToJdbc).get("parameters");
    Map<String, Pattern> regexes = new LinkedHashMap<>();
    parameters.forEach(
        p -> {
          if (p.has("regexes")) {
            regexes.put(p.get("name").asText(), Pattern.compile(p.get("regexes").get(0).asText()));
          }
        });
    assertThat(regexes.get("deadLetter").matcher("jdbc:sluice_dead_letters").matches(), is(true));
    assertThat(regexes.get("deadLetter").matcher("/tmp/dlq").matches(), is(false));
    assertThat(regexes.get("jdbcPassword").matcher("env:PGPASSWORD").matches(), is(true));
    // A value that is not a reference (made up here, never a real password) must not match.
    String literal = "not-a-reference-" + UUID.randomUUID();
    assertThat(regexes.get("jdbcPassword").matcher(literal).matches(), is(false));
    assertThat(regexes.get("table").matcher("warehouse.orders").matches(), is(true));
    assertThat(regexes.get("table").matcher("orders; DROP TABLE orders").matches(), is(false));
    assertThat(regexes.get("writeMethod").matcher("copy").matches(), is(true));
    assertThat(regexes.get("writeMethod").matcher("merge").matches(), is(false));
    assertThat(Templates.label("deadLetterJdbcUrl"), equalTo("Dead letter jdbc url"));
  }
}

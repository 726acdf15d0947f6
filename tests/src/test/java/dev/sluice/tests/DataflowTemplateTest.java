package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classic Dataflow templates, translated and written by the DataflowRunner offline (no GCP
 * credentials, nothing uploaded), for every pipeline; no secret passed by reference ends up in any
 * generated file.
 */
@ExtendWith(SharedSandbox.class)
class DataflowTemplateTest extends LauncherCalls {
  private static final String PASSWORD = "pg-" + UUID.randomUUID();
  private static final String KAFKA_SECRET = "kafka-" + UUID.randomUUID();

  @TempDir Path dir;
  private Path templates;
  private Path passwordFile;
  private Path kafkaProperties;

  @BeforeEach
  void secrets() throws Exception {
    templates = dir.resolve("templates");
    passwordFile = Files.writeString(dir.resolve("pg-password"), PASSWORD);
    kafkaProperties =
        Files.writeString(
            dir.resolve("kafka.properties"), "ssl.key.password=" + KAFKA_SECRET + "\n");
  }

  @Test
  void filesToLake() throws Exception {
    JsonNode template =
        template(
            "files-to-lake",
            "--input=gs://sluice-in/orders/*.csv",
            "--output=gs://sluice-lake/orders",
            "--deadLetter=file:gs://sluice-lake/dead-letters");
    assertThat(steps(template), hasItems("ReadFiles/ListFiles", "Parse/ParseLines"));
    assertThat(
        template.get("environment").get("sdkPipelineOptions").get("options").get("output").asText(),
        is("gs://sluice-lake/orders"));
    assertNoSecretIn(templates);
  }

  @Test
  void kafkaToJdbcStreaming() throws Exception {
    String table = SharedSandbox.newTableLike("orders", "template_orders");
    JsonNode template =
        template(
            "kafka-to-jdbc",
            "--bootstrapServers=kafka.internal:9093",
            "--topic=orders",
            "--kafkaProperties=" + kafkaProperties,
            "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
            "--jdbcUser=postgres",
            "--jdbcPassword=file:" + passwordFile,
            "--table=" + table,
            "--deadLetter=jdbc:sluice_dead_letters");
    Set<String> steps = steps(template);
    assertThat(steps.stream().anyMatch(s -> s.startsWith("ReadKafka/")), is(true));
    assertThat(steps.stream().anyMatch(s -> s.startsWith("Upsert/")), is(true));
    assertThat(template.get("type").asText(), is("JOB_TYPE_STREAMING"));
    assertThat(
        template.get("environment").get("experiments").toString(),
        containsString("\"use_runner_v2\""));
    assertNoSecretIn(templates);
  }

  /**
   * A classic template is run later without this launcher: options that plan at launch or have
   * steps around the run are refused before any service is asked anything, and nothing is left.
   */
  @Test
  void boundedKafkaToJdbcIsRefusedAndLeavesNoStagingTable() throws Exception {
    String table = SharedSandbox.newTableLike("orders", "template_bounded");
    String topic = SharedSandbox.newTopic("template-bounded", 1);
    SharedSandbox.produce(topic, 0, "{}".getBytes(StandardCharsets.UTF_8));
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: row_count, min: 1, severity: error}\n");
    long stagesBefore = stagingTables();

    int exit =
        run(
            "template",
            "--output=" + templates,
            "--pipeline=kafka-to-jdbc",
            "--",
            "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
            "--topic=" + topic,
            "--consumerGroup=template-group",
            "--bounded",
            "--rules=" + rules,
            "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
            "--jdbcUser=postgres",
            "--table=" + table,
            "--deadLetter=jdbc:sluice_dead_letters");

    assertThat(exit, is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "A classic template cannot hold this kafka-to-jdbc run: a bounded kafka-to-jdbc run"
                + " plans the offsets it reads when it starts"));
    assertThat(stagingTables(), is(stagesBefore));
    assertThat(Files.exists(templates.resolve("kafka-to-jdbc/classic-template.json")), is(false));
    // Nothing baked, nothing committed: the group has no offsets.
    assertThat(SharedSandbox.committedOffsets(topic, "template-group").isEmpty(), is(true));
  }

  @Test
  void jdbcToLakeIsRefused() throws Exception {
    int exit =
        run(
            "template",
            "--output=" + templates,
            "--pipeline=jdbc-to-lake",
            "--",
            "--jdbcUrl=jdbc:postgresql://unreachable.invalid:5432/sluice",
            "--jdbcUser=postgres",
            "--jdbcPassword=file:" + passwordFile,
            "--table=template_src",
            "--output=gs://sluice-lake/template_src",
            "--deadLetter=file:gs://sluice-lake/dead-letters");

    assertThat(exit, is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("jdbc-to-lake plans its watermark range when it starts"));
    assertThat(Files.exists(templates.resolve("jdbc-to-lake/classic-template.json")), is(false));
  }

  private static long stagingTables() throws Exception {
    return SharedSandbox.count(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'sluice\\_stage\\_%'");
  }

  private JsonNode template(String pipeline, String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("template", "--output=" + templates));
    args.add("--pipeline=" + pipeline);
    args.add("--");
    args.addAll(List.of(options));
    assertOk(run(args.toArray(String[]::new)));
    Path folder = templates.resolve(pipeline);
    for (String file : List.of("metadata.json", "Dockerfile", "README.md", "staged/pipeline.pb")) {
      assertThat(file, Files.exists(folder.resolve(file)), is(true));
    }
    return new ObjectMapper().readTree(folder.resolve("classic-template.json").toFile());
  }

  /**
   * The names of the pipeline's transforms. Runner v2 templates carry the graph as the pipeline
   * proto at {@code pipelineUrl}; the offline stager wrote it next to the template.
   */
  private Set<String> steps(JsonNode template) throws Exception {
    String pipelineUrl = null;
    for (JsonNode item :
        template.get("environment").get("sdkPipelineOptions").get("display_data")) {
      if (item.get("key").asText().equals("pipelineUrl")) {
        pipelineUrl = item.get("value").asText();
      }
    }
    assertThat(pipelineUrl, endsWith("/staging/pipeline.pb"));
    Path folder = templates.resolve(template.get("name").asText().replaceFirst("-[a-z0-9]+$", ""));
    RunnerApi.Pipeline proto =
        RunnerApi.Pipeline.parseFrom(Files.readAllBytes(folder.resolve("staged/pipeline.pb")));
    Set<String> names = new HashSet<>();
    proto.getComponents().getTransformsMap().values().forEach(t -> names.add(t.getUniqueName()));
    return names;
  }

  /**
   * Neither secret appears in any generated file: as text, nor inside base64 strings of the JSON
   * (serialized functions), nor in the staged pipeline proto.
   */
  private static void assertNoSecretIn(Path folder) throws Exception {
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        byte[] bytes = Files.readAllBytes(file);
        assertNoSecret(file.toString(), bytes);
        if (file.toString().endsWith(".json")) {
          List<String> strings = new ArrayList<>();
          collectStrings(new ObjectMapper().readTree(bytes), strings);
          for (String value : strings) {
            if (value.length() > 64 && value.matches("[A-Za-z0-9+/=_-]+")) {
              assertNoSecret(file + " (base64 value)", decode(value));
            }
          }
        }
      }
    }
  }

  private static byte[] decode(String value) {
    try {
      return Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      return Base64.getUrlDecoder().decode(value);
    }
  }

  private static void assertNoSecret(String where, byte[] bytes) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    assertThat(where + " holds the JDBC password", text.contains(PASSWORD), is(false));
    assertThat(where + " holds the Kafka secret", text.contains(KAFKA_SECRET), is(false));
  }

  private static void collectStrings(JsonNode node, List<String> strings) {
    if (node.isTextual()) {
      strings.add(node.asText());
    }
    node.forEach(child -> collectStrings(child, strings));
  }
}

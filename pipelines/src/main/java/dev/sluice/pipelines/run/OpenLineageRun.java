package dev.sluice.pipelines.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.lineage.LineageTransport;
import dev.sluice.pipelines.options.Durations;
import dev.sluice.pipelines.options.KafkaSourceOptions;
import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.report.QualityReport;
import dev.sluice.pipelines.report.RunSummary;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.parse.SchemaChanges;
import dev.sluice.transforms.rules.DatasetRule;
import dev.sluice.transforms.rules.Verdict;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.Schema;

/**
 * The OpenLineage run events of one run (spec 2-0-2, {@code RunEvent}), sent to {@code --lineage}:
 * {@code START} when it starts, {@code RUNNING} at intervals while a streaming run goes on, then
 * {@code COMPLETE} or {@code FAIL} (with the error). Job namespace {@code sluice}, job name the
 * pipeline's, a UUIDv7 run id; inputs and outputs named by OpenLineage's conventions, with a schema
 * facet from the Avro schema; the outputs' statistics, and the quality rules' results and metrics
 * on the inputs; a parent run facet when {@code --parentRunId} is given.
 */
public final class OpenLineageRun {
  public static final String NAMESPACE = "sluice";
  static final String PRODUCER = "https://github.com/sluice-dev/sluice/tree/main/pipelines";
  static final String SCHEMA_URL =
      "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
  private static final String FACETS = "https://openlineage.io/spec/facets/";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final LineageTransport transport;
  private final String job;
  private final String runId;
  private final @Nullable String parentRunId;
  private final String parentJob;
  private final List<LineageDataset> inputs;
  private final List<LineageDataset> outputs;

  private OpenLineageRun(
      LineageTransport transport,
      String job,
      @Nullable String parentRunId,
      String parentJob,
      List<LineageDataset> inputs,
      List<LineageDataset> outputs) {
    this.transport = transport;
    this.job = job;
    this.runId = uuidV7().toString();
    this.parentRunId = parentRunId;
    this.parentJob = parentJob;
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
  }

  /** The run's events, or null when {@code --lineage} is not given. */
  static <O extends SluiceOptions, P extends SluicePipeline.Plan> @Nullable OpenLineageRun of(
      SluicePipeline<O, P> definition, O options, P plan) {
    if (options.getLineage() == null) {
      return null;
    }
    return of(definition, options, definition.lineageInputs(plan), definition.lineageOutputs(plan));
  }

  /**
   * The events of a run that failed before it had a plan (its input missing, a service unreachable,
   * a table that does not match): no datasets, as none was resolved; or null without {@code
   * --lineage}.
   */
  static @Nullable OpenLineageRun unplanned(
      SluicePipeline<?, ?> definition, SluiceOptions options) {
    return of(definition, options, List.of(), List.of());
  }

  private static @Nullable OpenLineageRun of(
      SluicePipeline<?, ?> definition,
      SluiceOptions options,
      List<LineageDataset> inputs,
      List<LineageDataset> outputs) {
    if (options.getLineage() == null) {
      return null;
    }
    String bootstrap = null;
    KafkaClientProperties properties = KafkaClientProperties.fromFile(null);
    if (options instanceof KafkaSourceOptions kafka) {
      bootstrap = kafka.getBootstrapServers();
      properties = KafkaSourceOptions.Clients.of(kafka);
    }
    if (options.getParentRunId() != null) {
      try {
        UUID.fromString(options.getParentRunId());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "--parentRunId must be a UUID, but was '" + options.getParentRunId() + "'");
      }
    }
    String parentJob =
        options.getParentJob() == null ? NAMESPACE + "/parent" : options.getParentJob();
    if (!parentJob.contains("/")) {
      throw new IllegalArgumentException(
          "--parentJob must be <namespace>/<name>, but was '" + parentJob + "'");
    }
    return new OpenLineageRun(
        LineageTransport.parse(options.getLineage(), bootstrap, properties)
            .withDeadline(
                Duration.ofMillis(
                    Durations.parse("lineageTimeout", options.getLineageTimeout()).getMillis())),
        definition.name(),
        options.getParentRunId(),
        parentJob,
        inputs,
        outputs);
  }

  public String runId() {
    return runId;
  }

  /**
   * Waits at most {@code --lineageTimeout} for the events not yet delivered; those left then count
   * as missed.
   */
  void finish() {
    transport.finish();
  }

  /** Events that could not be delivered. */
  public int missed() {
    return transport.missed();
  }

  void start() {
    send("START", null, null, null);
  }

  void running() {
    send("RUNNING", null, null, null);
  }

  void complete(@Nullable RunSummary summary, @Nullable QualityReport quality) {
    send("COMPLETE", summary, quality, null);
  }

  void fail(Throwable error, @Nullable RunSummary summary, @Nullable QualityReport quality) {
    send("FAIL", summary, quality, error);
  }

  /**
   * Builds and sends one event; never throws, so lineage can neither fail a run nor replace the
   * error a failing run is reporting (an event that cannot be built counts as not delivered).
   */
  private void send(
      String type,
      @Nullable RunSummary summary,
      @Nullable QualityReport quality,
      @Nullable Throwable error) {
    String json;
    try {
      json = event(type, summary, quality, error).toString();
    } catch (RuntimeException e) {
      transport.missedBuilding(runId, type, e);
      return;
    }
    transport.send(runId, json);
  }

  private static ObjectNode facet(ObjectNode parent, String name, String schema) {
    ObjectNode facet = parent.putObject(name);
    facet.put("_producer", PRODUCER);
    facet.put("_schemaURL", FACETS + schema);
    return facet;
  }

  ObjectNode event(
      String type,
      @Nullable RunSummary summary,
      @Nullable QualityReport quality,
      @Nullable Throwable error) {
    ObjectNode event = JSON.createObjectNode();
    event.put("eventType", type);
    event.put("eventTime", Instant.now().toString());
    event.put("producer", PRODUCER);
    event.put("schemaURL", SCHEMA_URL);
    ObjectNode run = event.putObject("run");
    run.put("runId", runId);
    ObjectNode runFacets = run.putObject("facets");
    if (parentRunId != null) {
      ObjectNode parent =
          facet(runFacets, "parent", "1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet");
      parent.putObject("run").put("runId", parentRunId);
      ObjectNode parentJobNode = parent.putObject("job");
      parentJobNode.put("namespace", parentJob.substring(0, parentJob.indexOf('/')));
      parentJobNode.put("name", parentJob.substring(parentJob.indexOf('/') + 1));
    }
    if (error != null) {
      ObjectNode message =
          facet(
              runFacets,
              "errorMessage",
              "1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet");
      message.put("message", String.valueOf(error.getMessage()));
      message.put("programmingLanguage", "Java");
      message.put("stackTrace", DeadLetters.stackTrace(error));
    }
    ObjectNode jobNode = event.putObject("job");
    jobNode.put("namespace", NAMESPACE);
    jobNode.put("name", job);
    jobNode.putObject("facets");
    ArrayNode in = event.putArray("inputs");
    for (int i = 0; i < inputs.size(); i++) {
      ObjectNode node = dataset(in, inputs.get(i));
      if (summary != null && quality != null) {
        qualityFacets(node, summary, quality);
      }
      if (summary != null && i == 0 && !summary.schemaChanges().isEmpty()) {
        schemaChanges(node, summary.schemaChanges());
      }
    }
    ArrayNode out = event.putArray("outputs");
    for (int i = 0; i < outputs.size(); i++) {
      ObjectNode node = dataset(out, outputs.get(i));
      if (summary != null && i == 0) {
        ObjectNode stats =
            facet(
                node.putObject("outputFacets"),
                "outputStatistics",
                "1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet");
        Map<String, Long> table = summary.tableStatistics();
        stats.put("rowCount", table.getOrDefault("rows", summary.written()));
        if (table.containsKey("bytes")) {
          stats.put("size", table.get("bytes"));
        }
        if (table.containsKey("files")) {
          stats.put("fileCount", table.get("files"));
        }
      }
    }
    return event;
  }

  /**
   * The fields the source's events carried beyond the contract, added to its schema facet (the
   * input as it really was), each described as a schema change with its first origin.
   */
  private static void schemaChanges(ObjectNode input, List<SchemaChanges.Change> changes) {
    ObjectNode facets = (ObjectNode) input.get("facets");
    ObjectNode schema =
        facets.has("schema")
            ? (ObjectNode) facets.get("schema")
            : facet(facets, "schema", "1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet");
    ArrayNode fields =
        schema.has("fields") ? (ArrayNode) schema.get("fields") : schema.putArray("fields");
    for (SchemaChanges.Change change : changes) {
      ObjectNode f = fields.addObject();
      f.put("name", change.field());
      f.put("type", change.type());
      f.put("description", "schema change: not in the contract; first seen at " + change.origin());
    }
  }

  private static ObjectNode dataset(ArrayNode list, LineageDataset d) {
    ObjectNode node = list.addObject();
    node.put("namespace", d.namespace());
    node.put("name", d.name());
    ObjectNode facets = node.putObject("facets");
    if (d.table() != null) {
      // The table the files are, as its catalog names it (OpenLineage's convention for tables
      // of a table format: the dataset is the table's location, the table a symlink of it).
      ObjectNode symlinks =
          facet(facets, "symlinks", "1-0-1/SymlinksDatasetFacet.json#/$defs/SymlinksDatasetFacet");
      ObjectNode id = symlinks.putArray("identifiers").addObject();
      id.put("namespace", d.table().namespace());
      id.put("name", d.table().name());
      id.put("type", "TABLE");
    }
    if (d.schema() != null) {
      ObjectNode schema =
          facet(facets, "schema", "1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet");
      ArrayNode fields = schema.putArray("fields");
      for (Schema.Field field : new Schema.Parser().parse(d.schema()).getFields()) {
        ObjectNode f = fields.addObject();
        f.put("name", field.name());
        f.put("type", typeName(field.schema()));
        if (field.doc() != null) {
          f.put("description", field.doc());
        }
      }
    }
    if (d.columns() != null && !d.columns().isEmpty()) {
      ObjectNode lineage =
          facet(
              facets,
              "columnLineage",
              "1-1-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet");
      ObjectNode fields = lineage.putObject("fields");
      d.columns()
          .forEach(
              (column, sources) -> {
                ArrayNode inputs = fields.putObject(column).putArray("inputFields");
                for (LineageDataset.Field source : sources) {
                  ObjectNode in = inputs.addObject();
                  in.put("namespace", source.namespace());
                  in.put("name", source.name());
                  in.put("field", source.field());
                  if (source.masking() != null) {
                    ObjectNode t = in.putArray("transformations").addObject();
                    t.put("type", "DIRECT");
                    t.put("subtype", "TRANSFORMATION");
                    t.put("description", source.masking());
                    t.put("masking", true);
                  }
                }
              });
    }
    return node;
  }

  /** The Avro type as a short name: {@code long}, {@code string}, {@code timestamp-millis}, ... */
  private static String typeName(Schema schema) {
    Schema s = schema;
    String nullable = "";
    if (s.getType() == Schema.Type.UNION) {
      for (Schema branch : s.getTypes()) {
        if (branch.getType() != Schema.Type.NULL) {
          s = branch;
          nullable = "?";
        }
      }
    }
    String name = s.getLogicalType() != null ? s.getLogicalType().getName() : s.getType().getName();
    return name + nullable;
  }

  private static void qualityFacets(ObjectNode dataset, RunSummary summary, QualityReport quality) {
    ObjectNode assertions =
        facet(
            (ObjectNode) dataset.get("facets"),
            "dataQualityAssertions",
            "1-0-1/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet");
    ArrayNode list = assertions.putArray("assertions");
    for (Verdict r : quality.results()) {
      ObjectNode a = list.addObject();
      a.put("assertion", r.rule());
      a.put("success", r.passed());
      int open = r.rule().indexOf('(');
      if (open > 0 && r.rule().endsWith(")") && !r.rule().contains(",")) {
        a.put("column", r.rule().substring(open + 1, r.rule().length() - 1));
      }
    }
    ObjectNode metrics =
        facet(
            dataset.putObject("inputFacets"),
            "dataQualityMetrics",
            "1-0-2/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet");
    metrics.put("rowCount", summary.count(DatasetRule.ROWS));
    ObjectNode columns = metrics.putObject("columnMetrics");
    String prefix = DatasetRule.nullsCounter("");
    for (Map.Entry<String, Long> c : summary.byPrefix(prefix).entrySet()) {
      columns.putObject(c.getKey()).put("nullCount", c.getValue());
    }
  }

  /** A version 7 UUID: 48 bits of Unix milliseconds, then random bits (RFC 9562). */
  static UUID uuidV7() {
    long millis = System.currentTimeMillis();
    long high = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
    long low = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low);
  }
}

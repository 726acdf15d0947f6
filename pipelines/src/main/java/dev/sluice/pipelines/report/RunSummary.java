package dev.sluice.pipelines.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.parse.SchemaChanges;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.metrics.Lineage;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The account of one run: records read, written, dead-lettered (by reason and step) and filtered,
 * duration, outputs and lineage. Printed at the end of a bounded run and written as JSON.
 */
public record RunSummary(
    String pipeline,
    String state,
    Instant startedAt,
    Instant finishedAt,
    Map<String, Long> counters,
    Map<String, String> outputs,
    Set<String> lineageSources,
    Set<String> lineageSinks,
    List<SchemaChanges.Change> schemaChanges,
    Map<String, String> personalData) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * The output a commit reports what it wrote under, as {@code rows=N files=N bytes=N} (the
   * snapshot's own figures): lineage's output statistics come from it where it is given.
   */
  public static final String WRITTEN_TO_TABLE = "written to table";

  /** What {@link #WRITTEN_TO_TABLE} says, by name ({@code rows}, {@code files}, {@code bytes}). */
  public Map<String, Long> tableStatistics() {
    Map<String, Long> stats = new LinkedHashMap<>();
    String value = outputs.get(WRITTEN_TO_TABLE);
    if (value != null) {
      for (String part : value.split("\\s+")) {
        int eq = part.indexOf('=');
        if (eq > 0 && part.substring(eq + 1).matches("\\d+")) {
          stats.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
        }
      }
    }
    return stats;
  }

  /** The same summary with more labelled outputs (what a step reported, say). */
  public RunSummary withOutputs(Map<String, String> more) {
    Map<String, String> all = new LinkedHashMap<>(outputs);
    all.putAll(more);
    return new RunSummary(
        pipeline,
        state,
        startedAt,
        finishedAt,
        counters,
        all,
        lineageSources,
        lineageSinks,
        schemaChanges,
        personalData);
  }

  /**
   * The same summary saying which personal-data policy applied to which field ({@code email ->
   * token}), as the contract declares them.
   */
  public RunSummary withPersonalData(Map<String, String> policies) {
    return new RunSummary(
        pipeline,
        state,
        startedAt,
        finishedAt,
        counters,
        outputs,
        lineageSources,
        lineageSinks,
        schemaChanges,
        java.util.Collections.unmodifiableMap(new LinkedHashMap<>(policies)));
  }

  /** Reads the pipeline's counters (committed where the runner has them) and lineage. */
  public static RunSummary from(
      String pipeline,
      String state,
      Instant startedAt,
      Instant finishedAt,
      MetricResults metrics,
      Map<String, String> outputs) {
    PipelineMetrics figures = new PipelineMetrics(metrics, pipeline);
    return new RunSummary(
        pipeline,
        state,
        startedAt,
        finishedAt,
        figures.counters(),
        outputs,
        lineage(metrics, Lineage.Type.SOURCE, Lineage.Type.SOURCEV2),
        lineage(metrics, Lineage.Type.SINK, Lineage.Type.SINKV2),
        schemaChanges(figures.strings(SchemaChanges.METRIC)),
        Map.of());
  }

  /**
   * The schema changes the workers reported, one per field: each worker names the first origin it
   * saw; the earliest named (in order) stands for the field.
   */
  static List<SchemaChanges.Change> schemaChanges(List<String> reported) {
    Map<String, SchemaChanges.Change> byField = new TreeMap<>();
    for (String value : reported) {
      SchemaChanges.Change change = SchemaChanges.Change.fromMetric(value);
      byField.putIfAbsent(change.field(), change);
    }
    return List.copyOf(byField.values());
  }

  /** Lineage reported through Beam's {@code Lineage} metrics (string sets or bounded tries). */
  private static Set<String> lineage(MetricResults metrics, Lineage.Type... types) {
    Set<String> out = new TreeSet<>();
    for (Lineage.Type type : types) {
      out.addAll(Lineage.query(metrics, type));
    }
    return out;
  }

  public long count(String name) {
    return counters.getOrDefault(name, 0L);
  }

  public long read() {
    return count(Accounting.READ);
  }

  public long written() {
    return count(Accounting.WRITTEN);
  }

  public long deadLettered() {
    return count(Accounting.DEAD_LETTERED);
  }

  public long filtered() {
    return count(Accounting.FILTERED);
  }

  /** Records an aggregating transform took in (then {@link #written} counts aggregate rows). */
  public long aggregated() {
    return count(Accounting.AGGREGATED);
  }

  /** Whether the run aggregated its records, so that what it wrote are aggregate rows. */
  public boolean aggregates() {
    return counters.containsKey(Accounting.AGGREGATED);
  }

  /** Counters under a prefix, keyed by what follows it (e.g. reasons of dead letters). */
  public Map<String, Long> byPrefix(String prefix) {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach(
        (name, value) -> {
          if (name.startsWith(prefix)) {
            out.put(name.substring(prefix.length()), value);
          }
        });
    return out;
  }

  /**
   * {@code read - (written + dead_lettered + filtered)}: zero when every record is accounted for.
   */
  public long accountingGap() {
    if (aggregates()) {
      // The records went into aggregate rows; a row the sink rejected is a dead letter of its own.
      return read()
          - (aggregated() + deadLettered() - count(Accounting.BY_REASON + "sink") + filtered());
    }
    return read() - (written() + deadLettered() + filtered());
  }

  /** Whether the run replayed dead letters rather than reading its source. */
  public boolean isReplay() {
    return counters.containsKey(Accounting.REPLAY_SELECTED);
  }

  public Duration duration() {
    return Duration.between(startedAt, finishedAt);
  }

  /** The human-readable summary printed at the end of a run. */
  public String toText() {
    StringBuilder out = new StringBuilder();
    out.append("Run summary: ").append(pipeline).append(" ").append(state).append('\n');
    out.append(String.format("  read           %,12d%n", read()));
    if (aggregates()) {
      out.append(String.format("  aggregated     %,12d%n", aggregated()));
      out.append(String.format("  written        %,12d aggregate row(s)%n", written()));
    } else {
      out.append(String.format("  written        %,12d%n", written()));
    }
    out.append(String.format("  dead-lettered  %,12d%n", deadLettered()));
    byPrefix(Accounting.BY_REASON)
        .forEach((reason, n) -> out.append(String.format("    %-12s %,12d%n", reason, n)));
    out.append(String.format("  filtered       %,12d%n", filtered()));
    byPrefix(Accounting.FILTERED_BY)
        .forEach((cause, n) -> out.append(String.format("    %-12s %,12d%n", cause, n)));
    Map<String, Long> failedRules = new TreeMap<>();
    byPrefix("rule.")
        .forEach(
            (key, n) -> {
              if (key.endsWith(".failed")) {
                failedRules.put(key.substring(0, key.length() - ".failed".length()), n);
              }
            });
    if (!failedRules.isEmpty()) {
      out.append("  rule failures\n");
      failedRules.forEach((rule, n) -> out.append(String.format("    %-30s %,6d%n", rule, n)));
    }
    if (isReplay()) {
      out.append(
          String.format(
              "  replay         selected %,d = landed %,d + dead-lettered again %,d + filtered %,d%s%n",
              read(),
              written(),
              deadLettered(),
              filtered(),
              accountingGap() == 0 ? "" : " (does NOT hold)"));
    }
    long gap = accountingGap();
    out.append("  accounting     ")
        .append(
            gap == 0
                ? aggregates()
                    ? "read = aggregated + dead-lettered + filtered"
                    : "read = written + dead-lettered + filtered"
                : "GAP of " + gap + " record(s) not accounted for")
        .append('\n');
    if (!schemaChanges.isEmpty()) {
      out.append("  schema changes (fields the contract lacks)\n");
      schemaChanges.forEach(
          c ->
              out.append(
                  String.format(
                      "    %-20s %-8s first seen at %s%n", c.field(), c.type(), c.origin())));
    }
    if (!personalData.isEmpty()) {
      out.append("  personal data  ");
      StringBuilder line = new StringBuilder();
      personalData.forEach(
          (field, policy) ->
              line.append(line.length() == 0 ? "" : ", ").append(field + " " + policy));
      out.append(line).append('\n');
    }
    out.append(String.format("  duration       %.1f s%n", duration().toMillis() / 1000.0));
    outputs.forEach(
        (label, where) -> out.append("  ").append(label).append(": ").append(where).append('\n'));
    if (!lineageSources.isEmpty() || !lineageSinks.isEmpty()) {
      out.append("  lineage: ")
          .append(shortList(lineageSources))
          .append(" -> ")
          .append(shortList(lineageSinks))
          .append('\n');
    }
    return out.toString();
  }

  /** Lineage entries shown in the printed summary, at most; the report has them all. */
  static final int LINEAGE_SHOWN = 5;

  /** A set as printed: whole when short, else its first entries and how many there are. */
  static String shortList(Set<String> entries) {
    if (entries.size() <= LINEAGE_SHOWN) {
      return entries.toString();
    }
    List<String> first = entries.stream().sorted().limit(3).toList();
    return "["
        + String.join(", ", first)
        + ", ... "
        + entries.size()
        + " in all, listed in the run report]";
  }

  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("pipeline", pipeline);
    root.put("state", state);
    root.put("started_at", startedAt.toString());
    root.put("finished_at", finishedAt.toString());
    root.put("duration_ms", duration().toMillis());
    ObjectNode counts = root.putObject("counters");
    counts.put("read", read());
    counts.put("written", written());
    counts.put("dead_lettered", deadLettered());
    counts.put("filtered", filtered());
    if (aggregates()) {
      counts.put("aggregated", aggregated());
    }
    ObjectNode reasons = root.putObject("dead_lettered_by_reason");
    byPrefix(Accounting.BY_REASON).forEach(reasons::put);
    ObjectNode steps = root.putObject("dead_lettered_by_step");
    byPrefix(Accounting.BY_STEP).forEach(steps::put);
    ObjectNode filteredBy = root.putObject("filtered_by");
    byPrefix(Accounting.FILTERED_BY).forEach(filteredBy::put);
    ObjectNode rules = root.putObject("rules");
    byPrefix("rule.").forEach(rules::put);
    ObjectNode accounting = root.putObject("accounting");
    accounting.put("balanced", accountingGap() == 0);
    accounting.put("gap", accountingGap());
    if (isReplay()) {
      ObjectNode replay = root.putObject("replay");
      replay.put("selected", count(Accounting.REPLAY_SELECTED));
      replay.put("landed", written());
      replay.put("dead_lettered_again", deadLettered());
      replay.put("filtered", filtered());
      replay.put("balanced", read() == count(Accounting.REPLAY_SELECTED) && accountingGap() == 0);
    }
    var changes = root.putArray("schema_changes");
    for (SchemaChanges.Change c : schemaChanges) {
      ObjectNode change = changes.addObject();
      change.put("field", c.field());
      change.put("type", c.type());
      change.put("first_origin", c.origin());
    }
    if (!personalData.isEmpty()) {
      ObjectNode policies = root.putObject("personal_data");
      personalData.forEach(policies::put);
    }
    ObjectNode outs = root.putObject("outputs");
    outputs.forEach(outs::put);
    ObjectNode lineage = root.putObject("lineage");
    lineageSources.forEach(lineage.putArray("sources")::add);
    lineageSinks.forEach(lineage.putArray("sinks")::add);
    try {
      return JSON.writeValueAsString(root);
    } catch (IOException e) {
      throw new IllegalStateException("cannot render run report", e);
    }
  }

  /** Writes the JSON report through Beam's file systems (local, GCS, ...). */
  public void writeJson(String location) throws IOException {
    ResourceId target = FileSystems.matchNewResource(location, false);
    try (OutputStream out = Channels.newOutputStream(FileSystems.create(target, MimeTypes.TEXT))) {
      out.write(toJson().getBytes(StandardCharsets.UTF_8));
    }
  }
}

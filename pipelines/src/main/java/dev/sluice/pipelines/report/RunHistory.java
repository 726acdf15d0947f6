package dev.sluice.pipelines.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.transforms.rules.Figures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The history of a pipeline's bounded runs: one small JSON file per run, {@code
 * <dir>/<pipeline>/<finished millis>-<run id>.json}, with its counts (read, written, dead-lettered
 * and filtered by reason, the records the dataset rules judged and their nulls), its rules'
 * results, its gate and its result. Written through Beam's file systems (local, GCS, ...): one file
 * per run, so nothing is ever appended or rewritten. The change rules ({@code row_count_change},
 * {@code null_rate_change}) judge a run against it; {@code sluice status} prints it.
 */
public final class RunHistory {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RunHistory() {}

  /**
   * One run.
   *
   * @param result {@code succeeded}, {@code quality_gate_closed}, {@code accounting_gap}, {@code
   *     step_failed}, {@code failed} or {@code failed_before_run}
   * @param gateOpen whether its quality gate was open (or it had none)
   * @param counters every counter of the run, by name
   * @param rules each judged rule's name and whether it passed
   * @param snapshot the table snapshot its commit made (or the audit branch it left), or null
   * @param reason why a run failed before it ran (its error), or null
   */
  public record Entry(
      String pipeline,
      String runId,
      Instant startedAt,
      Instant finishedAt,
      String result,
      boolean gateOpen,
      Map<String, Long> counters,
      Map<String, Boolean> rules,
      @Nullable String snapshot,
      @Nullable String reason)
      implements Figures.Run {
    /** A run that ran (its failure, if any, is its result). */
    public Entry(
        String pipeline,
        String runId,
        Instant startedAt,
        Instant finishedAt,
        String result,
        boolean gateOpen,
        Map<String, Long> counters,
        Map<String, Boolean> rules,
        @Nullable String snapshot) {
      this(
          pipeline,
          runId,
          startedAt,
          finishedAt,
          result,
          gateOpen,
          counters,
          rules,
          snapshot,
          null);
    }

    /**
     * A run that failed before it ran (its input missing, a service unreachable, a table that does
     * not match): result {@code failed_before_run}, no counts, and the error as its reason.
     */
    public static Entry failedBeforeRun(
        String pipeline, Instant startedAt, Instant finishedAt, String reason) {
      return new Entry(
          pipeline,
          UUID.randomUUID().toString(),
          startedAt,
          finishedAt,
          "failed_before_run",
          true,
          Map.of(),
          Map.of(),
          null,
          reason);
    }

    @Override
    public long count(String name) {
      return counters.getOrDefault(name, 0L);
    }

    /** Whether the run can serve as a baseline for the next: it succeeded with its gate open. */
    @Override
    public boolean baseline() {
      return gateOpen && result.equals("succeeded");
    }
  }

  /** Records a run in {@code dir}. */
  public static void record(String dir, Entry entry) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("pipeline", entry.pipeline());
    root.put("run_id", entry.runId());
    root.put("started_at", entry.startedAt().toString());
    root.put("finished_at", entry.finishedAt().toString());
    root.put("result", entry.result());
    root.put("gate_open", entry.gateOpen());
    ObjectNode counters = root.putObject("counters");
    new TreeMap<>(entry.counters()).forEach(counters::put);
    ObjectNode rules = root.putObject("rules");
    new TreeMap<>(entry.rules()).forEach(rules::put);
    if (entry.snapshot() != null) {
      root.put("snapshot", entry.snapshot());
    }
    if (entry.reason() != null) {
      root.put("reason", entry.reason());
    }
    String location =
        base(dir)
            + entry.pipeline()
            + "/"
            + entry.finishedAt().toEpochMilli()
            + "-"
            + entry.runId()
            + ".json";
    try (OutputStream out =
        Channels.newOutputStream(
            FileSystems.create(FileSystems.matchNewResource(location, false), MimeTypes.TEXT))) {
      out.write(JSON.writeValueAsBytes(root));
    }
  }

  /** The runs recorded in {@code dir}, of one pipeline or (null) all, oldest first. */
  public static List<Entry> read(String dir, @Nullable String pipeline) throws IOException {
    List<Entry> entries = new ArrayList<>();
    String glob = base(dir) + (pipeline == null ? "*" : pipeline) + "/*.json";
    for (MatchResult.Metadata file :
        FileSystems.match(glob, EmptyMatchTreatment.ALLOW).metadata()) {
      JsonNode root;
      try (InputStream in = Channels.newInputStream(FileSystems.open(file.resourceId()))) {
        root = JSON.readTree(in);
      } catch (IOException e) {
        throw new IOException("run history file " + file.resourceId() + " cannot be read", e);
      }
      String problem = problem(root);
      if (problem != null) {
        throw new IOException(
            "run history file "
                + file.resourceId()
                + " is not a run record of Sluice: "
                + problem
                + " (remove it, or restore it from the run's report)");
      }
      Map<String, Long> counters = new TreeMap<>();
      root.path("counters")
          .fields()
          .forEachRemaining(f -> counters.put(f.getKey(), f.getValue().asLong()));
      Map<String, Boolean> rules = new TreeMap<>();
      root.path("rules")
          .fields()
          .forEachRemaining(f -> rules.put(f.getKey(), f.getValue().asBoolean()));
      entries.add(
          new Entry(
              root.get("pipeline").asText(),
              root.get("run_id").asText(),
              Instant.parse(root.get("started_at").asText()),
              Instant.parse(root.get("finished_at").asText()),
              root.get("result").asText(),
              root.get("gate_open").asBoolean(),
              counters,
              rules,
              root.hasNonNull("snapshot") ? root.get("snapshot").asText() : null,
              root.hasNonNull("reason") ? root.get("reason").asText() : null));
    }
    entries.sort(Comparator.comparing(Entry::finishedAt));
    return entries;
  }

  /** What is wrong with a run record, naming the field, or null when it is whole. */
  private static @Nullable String problem(@Nullable JsonNode root) {
    if (root == null || root.isMissingNode() || root.isNull()) {
      return "the file is empty";
    }
    if (!root.isObject()) {
      return "it is not a JSON object";
    }
    for (String field :
        List.of("pipeline", "run_id", "started_at", "finished_at", "result", "gate_open")) {
      JsonNode value = root.get(field);
      if (value == null || value.isNull()) {
        return "field '" + field + "' is missing";
      }
    }
    for (String field : List.of("started_at", "finished_at")) {
      try {
        Instant.parse(root.get(field).asText());
      } catch (DateTimeParseException e) {
        return "field '" + field + "' is no ISO-8601 instant: '" + root.get(field).asText() + "'";
      }
    }
    if (!root.get("gate_open").isBoolean()) {
      return "field 'gate_open' is not true or false";
    }
    return null;
  }

  /** {@code text} on one line, at most {@code max} characters. */
  private static String abbreviate(String text, int max) {
    String line = text.replaceAll("\\s+", " ").strip();
    return line.length() <= max ? line : line.substring(0, max - 3) + "...";
  }

  private static String base(String dir) {
    return dir.endsWith("/") ? dir : dir + "/";
  }

  /** The runs as a table, newest last: the {@code sluice status} view. */
  public static String table(List<Entry> entries) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%-20s  %-16s  %9s  %10s  %10s  %10s  %10s  %-6s  %-19s  %s%n",
            "finished (UTC)",
            "pipeline",
            "duration",
            "read",
            "written",
            "dead",
            "filtered",
            "gate",
            "result",
            "snapshot or reason"));
    for (Entry e : entries) {
      out.append(
          String.format(
                      "%-20s  %-16s  %8.1fs  %,10d  %,10d  %,10d  %,10d  %-6s  %-19s  %s%n",
                      e.finishedAt().truncatedTo(ChronoUnit.SECONDS).toString(),
                      e.pipeline(),
                      Duration.between(e.startedAt(), e.finishedAt()).toMillis() / 1000.0,
                      e.count("read"),
                      e.count("written"),
                      e.count("dead_lettered"),
                      e.count("filtered"),
                      e.gateOpen() ? "open" : "CLOSED",
                      e.result(),
                      e.snapshot() != null
                          ? e.snapshot()
                          : e.reason() == null ? "" : abbreviate(e.reason(), 100))
                  .stripTrailing()
              + System.lineSeparator());
    }
    return out.toString();
  }
}

package dev.sluice.runners;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.deadletter.ReplayFilter;
import dev.sluice.pipelines.options.DeadLetterOptions;
import dev.sluice.pipelines.options.SchemaOptions;
import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.pipelines.plan.DeadLetterSinks;
import dev.sluice.pipelines.plan.PersonalData;
import dev.sluice.pipelines.plan.Replay;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.report.RunSummary;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.RunTag;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetters;
import dev.sluice.transforms.pii.Pii;
import dev.sluice.transforms.pii.PiiKeysSource;
import java.io.PrintStream;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.beam.sdk.PipelineResult;

/**
 * {@code sluice replay --from=<dead letters> [filters] [--dryRun] --pipeline=<name> <its options>}:
 * feeds the original bytes of the selected dead letters through the same pipeline's steps again
 * (parse, rules, sink), keeping each record's origin. Records that pass now land as usual (the
 * versioned upsert, the lake's staged publish); records that fail again go to the pipeline's {@code
 * --deadLetter} with the next attempt. After a successful run the replayed dead letters are marked
 * in their store, so a second replay does not feed them again.
 */
final class ReplayCommand {
  static final List<String> OWN =
      List.of(
          "from",
          "reason",
          "step",
          "rule",
          "since",
          "until",
          "origin",
          "dryRun",
          "maxRecords",
          "pipeline");

  /** Default most dead letters one replay feeds (they travel in the run's graph). */
  static final int MAX_RECORDS = 100_000;

  private ReplayCommand() {}

  static final String USAGE =
      "Usage: sluice replay --from=file:<dir>|jdbc:<table>|kafka:<topic>\n"
          + "         [--reason=<reason>] [--step=<step>] [--rule=<rule>] [--origin=<glob>]\n"
          + "         [--since=<ISO time>] [--until=<ISO time>] [--dryRun] [--maxRecords=N]\n"
          + "         --pipeline=<name> <that pipeline's options, as for its runs>\n"
          + "Feeds the selected dead letters of <name> through its parse, rules and sink again;"
          + " what fails again\nis dead-lettered to its --deadLetter with the next attempt, and"
          + " the replayed ones are marked\n(jdbc: replayed_at/replay_run; file: <dir>/_replayed/;"
          + " kafka: <topic>.replayed).\n";

  static int run(String[] args, PrintStream out) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      out.print(USAGE);
      return Exit.OK;
    }
    int at = -1;
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith("--pipeline=")) {
        at = i;
        break;
      }
    }
    if (at < 0) {
      throw new UsageException(
          "replay needs --pipeline=<name> followed by that pipeline's options, e.g. sluice replay"
              + " --from=jdbc:sluice_dead_letters --pipeline=kafka-to-jdbc --topic=... ");
    }
    Flags flags = Flags.parse(Arrays.copyOfRange(args, 0, at + 1), OWN);
    String[] pipelineArgs = Arrays.copyOfRange(args, at + 1, args.length);
    SluicePipeline<?, ?> pipeline = PipelineLaunch.pipeline(flags.get("pipeline"));
    return replay(pipeline, flags, pipelineArgs, out);
  }

  /**
   * When a store holds no dead letter of the pipeline asked for, what it holds of others (a
   * mistyped {@code --pipeline} otherwise looks like a clean store).
   */
  private static String othersHeld(
      DeadLetterSink store, ReplayFilter filter, String pipeline, String from) throws Exception {
    Map<String, Integer> others = new TreeMap<>();
    for (DeadLetterSink.Held h : store.held(filter.ofAnyPipeline())) {
      others.merge(h.letter().getPipeline().toString(), 1, Integer::sum);
    }
    if (others.isEmpty()) {
      return "";
    }
    StringBuilder text =
        new StringBuilder(" --from=" + from + " holds no dead letter of " + pipeline + ", but");
    others.forEach(
        (name, count) -> text.append(' ').append(count).append(" of ").append(name).append(','));
    text.setLength(text.length() - 1);
    return text.append(
            " that the filters select: give --pipeline=<that pipeline> (and its options) to"
                + " replay them.")
        .toString();
  }

  private static <O extends SluiceOptions, P extends SluicePipeline.Plan> int replay(
      SluicePipeline<O, P> pipeline, Flags flags, String[] pipelineArgs, PrintStream out)
      throws Exception {
    String from = flags.required("from");
    if (!from.matches("^(file|kafka|jdbc):.+$")) {
      throw new UsageException(
          "--from must be file:<dir>, kafka:<topic> or jdbc:<table>, but was '" + from + "'");
    }
    ReplayFilter filter =
        new ReplayFilter(
            pipeline.name(),
            flags.get("reason"),
            flags.get("step"),
            flags.get("rule"),
            instant("since", flags.get("since")),
            instant("until", flags.get("until")),
            flags.get("origin"));
    int max = positive("maxRecords", flags.get("maxRecords", String.valueOf(MAX_RECORDS)));
    boolean dryRun = Boolean.parseBoolean(flags.get("dryRun", "false"));
    O options = PipelineLaunch.parse(pipeline, pipelineArgs);
    if (!(options instanceof DeadLetterOptions deadLetterOptions)) {
      throw new UsageException(pipeline.name() + " has no dead letters to replay");
    }
    DeadLetterSink store = DeadLetterSinks.parse(deadLetterOptions, from);
    List<DeadLetterSink.Held> held = store.held(filter);
    if (held.size() > max) {
      throw new UsageException(
          "--from="
              + from
              + " holds "
              + held.size()
              + " dead letters of "
              + pipeline.name()
              + " that the filters select, more than --maxRecords="
              + max
              + ": narrow the selection (--since, --until, --origin, --reason, --step, --rule)"
              + " and replay in parts, or raise --maxRecords");
    }
    out.print(selection(from, held));
    if (held.isEmpty()) {
      out.println("Nothing to replay." + othersHeld(store, filter, pipeline.name(), from));
      return Exit.OK;
    }
    // Sealed dead letters (a contract with personal data) are opened with the run's keyset.
    PiiKeysSource keys =
        options instanceof SchemaOptions schemaOptions ? PersonalData.keys(schemaOptions) : null;
    Replay replay = replayOf(store, held, dryRun, keys);
    P plan = pipeline.planReplay(options, replay);
    if (dryRun) {
      return dryRun(pipeline, options, plan, out);
    }
    PipelineLaunch.metricsDefaults(options);
    PipelineRun.run(pipeline, options, out, plan);
    out.println(
        "Replayed "
            + held.size()
            + " dead letter(s) of "
            + from
            + ": marked replayed in "
            + store.replayLedger());
    return Exit.OK;
  }

  /**
   * The records to feed: one per record (origin and bytes), at the latest attempt any of its
   * selected dead letters failed at; every selected dead letter is marked once the run succeeds.
   */
  static Replay replayOf(
      DeadLetterSink store,
      List<DeadLetterSink.Held> held,
      boolean dryRun,
      @Nullable PiiKeysSource piiKeys) {
    Map<String, SourceRecord> records = new LinkedHashMap<>();
    Map<String, Integer> attempts = new LinkedHashMap<>();
    List<String> keys = new ArrayList<>();
    for (DeadLetterSink.Held h : held) {
      DeadLetter d = h.letter();
      SourceRecord stored = DeadLetters.source(d);
      SourceRecord record =
          new SourceRecord(
              stored.origin(), Pii.payload(d, piiKeys), stored.sourceTimestamp(), stored.header());
      // Keyed by the bytes as stored: a record that fails again is sealed the same way (the
      // seal is deterministic), so its next dead letter finds its last attempt.
      String key = Replay.recordKey(stored.origin(), stored.payload());
      records.putIfAbsent(key, record);
      attempts.merge(key, d.getAttempt(), Math::max);
      keys.add(h.key());
    }
    String tag = RunTag.of(keys);
    return new Replay(
        store,
        keys,
        UUID.randomUUID().toString(),
        tag,
        List.copyOf(records.values()),
        attempts,
        dryRun);
  }

  /** What the filters selected, by reason and rule. */
  static String selection(String from, List<DeadLetterSink.Held> held) {
    Map<String, Integer> groups = new TreeMap<>();
    for (DeadLetterSink.Held h : held) {
      DeadLetter d = h.letter();
      String group =
          d.getReason()
              + (d.getRule() == null ? "" : " / rule " + d.getRule())
              + " @ "
              + d.getStep();
      groups.merge(group, 1, Integer::sum);
    }
    StringBuilder text = new StringBuilder();
    text.append("Selected ").append(held.size()).append(" dead letter(s) from ").append(from);
    text.append(held.isEmpty() ? "\n" : ", by reason, rule and step:\n");
    groups.forEach((group, n) -> text.append(String.format("  %,8d  %s%n", n, group)));
    return text.toString();
  }

  /**
   * Runs the replay's graph with its writes and dead letters left out, and prints how many would
   * land and how many would fail again, by reason and rule. No step runs, nothing is written.
   */
  private static <O extends SluiceOptions, P extends SluicePipeline.Plan> int dryRun(
      SluicePipeline<O, P> pipeline, O options, P plan, PrintStream out) {
    PipelineRun.Built<P> built = PipelineRun.build(pipeline, options, plan);
    Instant started = Instant.now();
    PipelineResult result = built.pipeline().run();
    PipelineResult.State state = result.waitUntilFinish();
    RunSummary summary =
        RunSummary.from(
            pipeline.name(),
            String.valueOf(state),
            started,
            Instant.now(),
            result.metrics(),
            Map.of());
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("the dry run ended in state " + state);
    }
    StringBuilder text = new StringBuilder("Dry run: nothing was written or marked.\n");
    text.append(
        String.format(
            "  would land             %,8d (pass parse and rules; the sink is not tried)%n",
            summary.written()));
    text.append(String.format("  would fail again       %,8d%n", summary.deadLettered()));
    summary
        .byPrefix(Accounting.BY_REASON)
        .forEach((reason, n) -> text.append(String.format("    %-20s %,8d%n", reason, n)));
    summary
        .byPrefix("rule.")
        .forEach(
            (key, n) -> {
              if (key.endsWith(".failed") && n > 0) {
                text.append(
                    String.format(
                        "    rule %-15s %,8d%n",
                        key.substring(0, key.length() - ".failed".length()), n));
              }
            });
    text.append(String.format("  would be filtered      %,8d%n", summary.filtered()));
    out.print(text);
    return Exit.OK;
  }

  private static Instant instant(String flag, String value) {
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      throw new UsageException(
          "--"
              + flag
              + " must be an ISO-8601 time with offset, e.g. 2026-11-25T00:00:00Z, but was '"
              + value
              + "'");
    }
  }

  private static int positive(String flag, String value) {
    try {
      int n = Integer.parseInt(value);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new UsageException(
        "--" + flag + " must be a positive whole number, but was '" + value + "'");
  }
}

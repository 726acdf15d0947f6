package dev.sluice.runners;

import dev.sluice.pipelines.report.RunHistory;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code sluice status --runHistory=<dir> [--pipeline=<name>] [--last=N]}: the last runs recorded
 * in a run history, as a table: when, duration, read, written, dead-lettered, filtered, gate and
 * result.
 */
final class StatusCommand {
  static final List<String> OWN = List.of("runHistory", "pipeline", "last");

  private StatusCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    Flags flags = Flags.parse(args, OWN);
    String dir = flags.required("runHistory");
    String pipeline = flags.get("pipeline");
    if (pipeline != null) {
      PipelineLaunch.pipeline(pipeline);
    }
    int last;
    try {
      last = Integer.parseInt(flags.get("last", "20"));
    } catch (NumberFormatException e) {
      last = 0;
    }
    if (last < 1) {
      throw new UsageException(
          "--last must be a positive whole number, but was '" + flags.get("last") + "'");
    }
    List<RunHistory.Entry> runs = RunHistory.read(dir, pipeline);
    if (runs.isEmpty()) {
      out.println(
          "No runs recorded in "
              + dir
              + (pipeline == null ? "" : " for " + pipeline)
              + " (bounded runs record themselves there; see --runHistory)");
      return Exit.OK;
    }
    out.print(RunHistory.table(runs.subList(Math.max(0, runs.size() - last), runs.size())));
    return Exit.OK;
  }
}

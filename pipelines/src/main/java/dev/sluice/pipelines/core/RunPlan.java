package dev.sluice.pipelines.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a built pipeline tells the run about itself: whether it is bounded, where it writes (for the
 * summary), where its run report goes, and what to do once a bounded run has succeeded and
 * accounted for every record (e.g. publish staged files, commit a watermark).
 *
 * @param bounded whether the run ends by itself (and so gets a summary and an accounting check)
 * @param outputs labelled locations the run writes to, e.g. {@code lake -> /data/lake}
 * @param runReport where the JSON run report is written, or null for none
 * @param onSuccess run on the launching side after a successful, balanced bounded run whose quality
 *     gate is open, or null
 * @param quality rules whose dataset rules are judged after a bounded run, or null
 * @param cleanup run on the launching side when the run ends, however it ends (e.g. drop a staging
 *     table), or null
 */
public record RunPlan(
    boolean bounded,
    Map<String, String> outputs,
    String runReport,
    OnSuccess onSuccess,
    dev.sluice.transforms.rules.RulesFile quality,
    Cleanup cleanup) {

  /** A step when the run ends, whatever the outcome; its failure is reported, not raised. */
  @FunctionalInterface
  public interface Cleanup {
    void run() throws Exception;
  }

  /** A step after the run, on the launching side; a failure fails the run. */
  @FunctionalInterface
  public interface OnSuccess {
    void run(RunSummary summary) throws Exception;
  }

  public RunPlan {
    outputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
  }

  public RunPlan(boolean bounded, Map<String, String> outputs, String runReport) {
    this(bounded, outputs, runReport, null, null, null);
  }

  public RunPlan(
      boolean bounded, Map<String, String> outputs, String runReport, OnSuccess onSuccess) {
    this(bounded, outputs, runReport, onSuccess, null, null);
  }

  /** The same plan, judging the rules' dataset rules after a bounded run (the quality gate). */
  public RunPlan withQuality(Rules rules) {
    return rules == null
        ? this
        : new RunPlan(bounded, outputs, runReport, onSuccess, rules.file(), cleanup);
  }

  /** The same plan, with a step for when the run ends however it ends. */
  public RunPlan withCleanup(Cleanup step) {
    return new RunPlan(bounded, outputs, runReport, onSuccess, quality, step);
  }
}

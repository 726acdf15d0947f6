package dev.sluice.pipelines.plan;

import dev.sluice.pipelines.report.RunHistory;
import dev.sluice.pipelines.report.RunSummary;
import dev.sluice.transforms.rules.RulesFile;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;

/**
 * The part of every pipeline's plan that the run itself reads: whether it is bounded, where it
 * writes (for the summary), where its run report goes, the rules whose dataset rules are judged
 * after it, and its named steps on the launching side. A plain serializable value: nothing here has
 * happened yet.
 *
 * @param bounded whether the run ends by itself (and so gets a summary and an accounting check)
 * @param outputs labelled locations the run writes to, e.g. {@code lake -> /data/lake}
 * @param runReport where the JSON run report is written, or null for none
 * @param quality rules whose dataset rules are judged after a bounded run, or null
 * @param prepare steps run just before the pipeline starts (e.g. create a staging table)
 * @param audit steps run after a successful, balanced bounded run, before its quality gate is
 *     judged (e.g. commit to an audit branch that readers can inspect); a failure fails the run
 * @param onSuccess steps run, in order, after a successful, balanced bounded run whose quality gate
 *     is open (e.g. publish staged files, commit a watermark or offsets); a failure fails the run
 * @param cleanup steps run when the run ends, however it ends (e.g. drop a staging table); a
 *     failure is reported, not raised
 * @param runHistory the directory of the pipeline's run history ({@link RunHistory}), or null
 */
public record RunPlan(
    boolean bounded,
    Map<String, String> outputs,
    @Nullable String runReport,
    @Nullable RulesFile quality,
    List<Step> prepare,
    List<Step> audit,
    List<Step> onSuccess,
    List<Step> cleanup,
    @Nullable String runHistory)
    implements Serializable {

  /**
   * A named effect of the plan, carried out by the launcher at its point of the run; its name is
   * what the summary and the errors show.
   */
  public interface Step extends Serializable {
    /** What the step does, in a few words: "merge sluice_stage_1 into orders". */
    String name();

    /**
     * Carries the step out.
     *
     * @param summary the finished run's summary for {@code onSuccess} steps, null otherwise
     */
    void run(@Nullable RunSummary summary) throws Exception;

    /**
     * Whether the run needs this step (a merge, a commit): false for a pre-flight check that only
     * fails a wrong run sooner, which a classic template, run later without this launcher, may do
     * without.
     */
    default boolean needed() {
      return true;
    }
  }

  /**
   * A step whose result belongs in the run's report (the snapshot a commit made): what it returns
   * is added to the run's outputs, printed and written with them.
   */
  public interface ReportingStep extends Step {
    Map<String, String> runAndReport(RunSummary summary) throws Exception;

    @Override
    default void run(@Nullable RunSummary summary) throws Exception {
      runAndReport(summary);
    }
  }

  public RunPlan {
    outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
    prepare = List.copyOf(prepare);
    audit = List.copyOf(audit);
    onSuccess = List.copyOf(onSuccess);
    cleanup = List.copyOf(cleanup);
  }

  /** A plan with no rules and no steps. */
  public static RunPlan of(boolean bounded, Map<String, String> outputs, String runReport) {
    return new RunPlan(
        bounded, outputs, runReport, null, List.of(), List.of(), List.of(), List.of(), null);
  }

  /** The same plan, judging the rules' dataset rules after a bounded run (the quality gate). */
  public RunPlan withQuality(@Nullable Rules rules) {
    return rules == null
        ? this
        : new RunPlan(
            bounded,
            outputs,
            runReport,
            rules.file(),
            prepare,
            audit,
            onSuccess,
            cleanup,
            runHistory);
  }

  /** The same plan with one more step before the run. */
  public RunPlan withPrepare(Step step) {
    return new RunPlan(
        bounded,
        outputs,
        runReport,
        quality,
        plus(prepare, step),
        audit,
        onSuccess,
        cleanup,
        runHistory);
  }

  /** The same plan with one more step after a successful run, before its gate is judged. */
  public RunPlan withAudit(Step step) {
    return new RunPlan(
        bounded,
        outputs,
        runReport,
        quality,
        prepare,
        plus(audit, step),
        onSuccess,
        cleanup,
        runHistory);
  }

  /** The same plan with one more step after a successful run. */
  public RunPlan withOnSuccess(Step step) {
    return new RunPlan(
        bounded,
        outputs,
        runReport,
        quality,
        prepare,
        audit,
        plus(onSuccess, step),
        cleanup,
        runHistory);
  }

  /** The same plan with one more step for when the run ends however it ends. */
  public RunPlan withCleanup(Step step) {
    return new RunPlan(
        bounded,
        outputs,
        runReport,
        quality,
        prepare,
        audit,
        onSuccess,
        plus(cleanup, step),
        runHistory);
  }

  /** The same plan, recording bounded runs in (and judging change rules by) a run history. */
  public RunPlan withHistory(@Nullable String dir) {
    return new RunPlan(
        bounded, outputs, runReport, quality, prepare, audit, onSuccess, cleanup, dir);
  }

  /** Whether the launcher has anything to do around the run besides watching it. */
  public boolean hasSteps() {
    return neededSteps().findAny().isPresent();
  }

  /** The steps the run needs ({@link Step#needed}), in order. */
  public java.util.stream.Stream<Step> neededSteps() {
    return java.util.stream.Stream.of(prepare, audit, onSuccess, cleanup)
        .flatMap(List::stream)
        .filter(Step::needed);
  }

  private static List<Step> plus(List<Step> steps, Step step) {
    List<Step> all = new ArrayList<>(steps);
    all.add(step);
    return all;
  }
}

package dev.sluice.pipelines.run;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.report.RunSummary;
import dev.sluice.transforms.core.Accounting;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineRunTest {

  /** Reads three records and accounts for only some of them: a pipeline that loses a record. */
  static final class Leaky implements SluicePipeline<SluiceOptions, Leaky.Plan> {
    record Plan(RunPlan run) implements SluicePipeline.Plan {}

    private final int written;
    private final UnaryOperator<RunPlan> steps;

    Leaky(int written) {
      this(written, run -> run);
    }

    Leaky(int written, UnaryOperator<RunPlan> steps) {
      this.written = written;
      this.steps = steps;
    }

    @Override
    public String name() {
      return "leaky";
    }

    @Override
    public String description() {
      return "test";
    }

    @Override
    public String lineage() {
      return "test";
    }

    @Override
    public Class<SluiceOptions> optionsClass() {
      return SluiceOptions.class;
    }

    @Override
    public Plan plan(SluiceOptions options) {
      return new Plan(
          steps.apply(RunPlan.of(true, Map.of("out", "nowhere"), options.getRunReport())));
    }

    @Override
    public void build(Pipeline pipeline, Plan plan) {
      pipeline.apply(Create.of(1, 2, 3)).apply(ParDo.of(new CountFn(written)));
    }
  }

  static final class CountFn extends DoFn<Integer, Integer> {
    private final int keep;

    CountFn(int keep) {
      this.keep = keep;
    }

    @ProcessElement
    public void process(@Element Integer i) {
      Accounting accounting = Accounting.of("leaky");
      accounting.read().inc();
      if (i <= keep) {
        accounting.written().inc();
      }
    }
  }

  @Test
  void aBoundedRunThatLosesARecordFailsNamingTheGap(@TempDir Path dir) throws Exception {
    SluiceOptions options = PipelineOptionsFactory.as(SluiceOptions.class);
    options.setRunReport(dir.resolve("report.json").toString());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PipelineRun.AccountingException e =
        assertThrows(
            PipelineRun.AccountingException.class,
            () ->
                PipelineRun.run(
                    new Leaky(2), options, new PrintStream(out, true, StandardCharsets.UTF_8)));
    assertThat(
        e.getMessage(),
        is(
            "Accounting check failed for leaky: read 3 != written 2 + dead-lettered 0 + filtered 0 (gap 1)"));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString("GAP of 1 record(s) not accounted for"));
    String report = Files.readString(dir.resolve("report.json"));
    assertThat(report, containsString("\"balanced\" : false"));
    assertThat(report, containsString("\"gap\" : 1"));
  }

  @Test
  void aBalancedRunPasses(@TempDir Path dir) throws Exception {
    SluiceOptions options = PipelineOptionsFactory.as(SluiceOptions.class);
    RunSummary summary =
        PipelineRun.run(
            new Leaky(3),
            options,
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertThat(summary.accountingGap(), is(0L));
    assertThat(summary.read(), is(3L));
  }

  /** What the steps of the runs below did, in order. */
  static final List<String> CALLS = new CopyOnWriteArrayList<>();

  /** A step that records its call, and fails when told to. */
  record Recorded(String name, boolean fails) implements RunPlan.Step {
    @Override
    public void run(RunSummary summary) {
      CALLS.add(name + (summary == null ? "" : " after " + summary.written() + " written"));
      if (fails) {
        throw new IllegalStateException(name + " broke");
      }
    }
  }

  private static RunPlan withSteps(RunPlan run, boolean publishFails) {
    return run.withPrepare(new Recorded("create stage", false))
        .withOnSuccess(new Recorded("publish", publishFails))
        .withOnSuccess(new Recorded("commit", false))
        .withCleanup(new Recorded("drop stage", false));
  }

  @Test
  void stepsRunInTheirPlacesAndAFailingOneIsNamedAndStopsTheRest() throws Exception {
    SluiceOptions options = PipelineOptionsFactory.as(SluiceOptions.class);
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    CALLS.clear();
    PipelineRun.run(new Leaky(3, run -> withSteps(run, false)), options, out);
    assertThat(
        CALLS,
        org.hamcrest.Matchers.contains(
            "create stage", "publish after 3 written", "commit after 3 written", "drop stage"));

    CALLS.clear();
    PipelineRun.RunFailedException failed =
        assertThrows(
            PipelineRun.RunFailedException.class,
            () -> PipelineRun.run(new Leaky(3, run -> withSteps(run, true)), options, out));
    assertThat(failed.getMessage(), containsString("its step 'publish' failed: publish broke"));
    assertThat(
        CALLS,
        org.hamcrest.Matchers.contains("create stage", "publish after 3 written", "drop stage"));

    CALLS.clear();
    assertThrows(
        PipelineRun.AccountingException.class,
        () -> PipelineRun.run(new Leaky(2, run -> withSteps(run, false)), options, out));
    assertThat(CALLS, org.hamcrest.Matchers.contains("create stage", "drop stage"));
  }
}

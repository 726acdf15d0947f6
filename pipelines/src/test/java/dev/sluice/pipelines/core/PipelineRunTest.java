package dev.sluice.pipelines.core;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.transforms.core.Accounting;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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

    Leaky(int written) {
      this.written = written;
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
      return new Plan(RunPlan.of(true, Map.of("out", "nowhere"), options.getRunReport()));
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
}

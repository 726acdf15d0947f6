package dev.sluice.runners;

import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.run.PipelineRun;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * {@code sluice template --output=<dir> [--pipeline=<name> [-- <pipeline options>]]}: Flex Template
 * files per pipeline; with pipeline options, also a classic template that the DataflowRunner
 * translates and writes offline (no credentials, no network, nothing uploaded).
 */
final class TemplateCommand {
  static final List<String> OWN = List.of("output", "pipeline");

  /** The file name of the classic template under {@code <output>/<pipeline>/}. */
  static final String CLASSIC = "classic-template.json";

  private TemplateCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    // Pipeline options follow "--": they may share names with the command's own (--output).
    int split = Arrays.asList(args).indexOf("--");
    String[] own = split < 0 ? args : Arrays.copyOfRange(args, 0, split);
    List<String> pipelineArgs =
        split < 0 ? List.of() : Arrays.asList(Arrays.copyOfRange(args, split + 1, args.length));
    Flags flags = Flags.parse(own, OWN);
    Path dir = Path.of(flags.required("output"));
    List<SluicePipeline<?, ?>> pipelines;
    if (flags.get("pipeline") == null) {
      if (!pipelineArgs.isEmpty()) {
        throw new UsageException(
            "Pipeline options (" + pipelineArgs.get(0) + ") need --pipeline=<name>");
      }
      pipelines = PipelineCatalog.all();
    } else {
      pipelines = List.of(PipelineLaunch.pipeline(flags.get("pipeline")));
    }
    for (SluicePipeline<?, ?> pipeline : pipelines) {
      for (Path file : Templates.write(pipeline, dir)) {
        out.println("wrote " + file);
      }
    }
    if (!pipelineArgs.isEmpty()) {
      Path classic = dir.resolve(pipelines.get(0).name()).resolve(CLASSIC);
      classic(pipelines.get(0), pipelineArgs, classic);
      out.println("wrote " + classic);
    }
    return Exit.OK;
  }

  /**
   * Builds the pipeline with the given options on the DataflowRunner in template mode and lets the
   * runner write the classic template. Options naming the runner, project, region and temporary
   * location may be given; offline defaults fill in the rest.
   */
  static <O extends SluiceOptions, P extends SluicePipeline.Plan> void classic(
      SluicePipeline<O, P> pipeline, List<String> pipelineArgs, Path template) throws Exception {
    Files.createDirectories(template.toAbsolutePath().getParent());
    List<String> args = new ArrayList<>(pipelineArgs);
    for (String runner : List.of("--runner=", "--templateLocation=")) {
      if (args.stream().anyMatch(a -> a.startsWith(runner))) {
        throw new UsageException(runner + "... is set by the template command; leave it out");
      }
    }
    args.add("--runner=DataflowRunner");
    args.add("--templateLocation=" + template.toAbsolutePath());
    defaultTo(args, "project", "sluice-offline");
    defaultTo(args, "region", "us-central1");
    defaultTo(args, "tempLocation", "gs://sluice-offline/tmp");
    // Set explicitly: its default asks GCS about the bucket's soft-delete policy (network).
    defaultTo(args, "gcpTempLocation", value(args, "tempLocation"));
    // Runner v2: the Kafka read (a splittable DoFn with a bad-record handler) needs it.
    defaultTo(args, "experiments", "use_runner_v2");
    defaultTo(args, "stagerClass", OfflineStager.class.getName());
    defaultTo(
        args,
        "credentialFactoryClass",
        "org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory");
    defaultTo(
        args, "pathValidatorClass", "org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator");
    O options = PipelineLaunch.parse(pipeline, args.toArray(String[]::new));
    // A classic template is a graph built now and run later without this launcher: nothing can
    // plan at launch or carry out the plan's steps then. Options that need either are refused
    // before anything is asked of any service, and the steps of a plan are never run here.
    Optional<String> launcher = pipeline.needsLauncher(options);
    if (launcher.isPresent()) {
      throw new UsageException(
          "A classic template cannot hold this " + pipeline.name() + " run: " + launcher.get());
    }
    PipelineRun.Built<P> built = PipelineRun.build(pipeline, options);
    if (built.plan().run().hasSteps()) {
      throw new UsageException(
          "A classic template cannot hold this "
              + pipeline.name()
              + " run: it has steps around the run ("
              + String.join(
                  ", ", built.plan().run().neededSteps().map(step -> step.name()).toList())
              + ") that only a launcher carries out. Use the Flex Template");
    }
    built.pipeline().run();
  }

  private static String value(List<String> args, String name) {
    return args.stream()
        .filter(a -> a.startsWith("--" + name + "="))
        .map(a -> a.substring(name.length() + 3))
        .findFirst()
        .orElseThrow();
  }

  private static void defaultTo(List<String> args, String name, String value) {
    if (args.stream().noneMatch(a -> a.startsWith("--" + name + "="))) {
      args.add("--" + name + "=" + value);
    }
  }
}

package dev.sluice.runners;

import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.report.RunSummary;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.runners.sandbox.Ports;
import java.beans.Introspector;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PipelineOptionsValidator;

/**
 * The one way a pipeline is launched, by the run, replay and template commands alike: its options
 * parsed (unknown, repeated and missing options refused, naming them), the runners' defaults
 * applied, then planned and run by {@link PipelineRun}.
 */
final class PipelineLaunch {
  private PipelineLaunch() {}

  /** The catalog's pipeline of that name, or a usage error naming it. */
  static SluicePipeline<?, ?> pipeline(String name) {
    return PipelineCatalog.byName(name)
        .orElseThrow(
            () ->
                new UsageException("Unknown pipeline '" + name + "'. Run --help for the catalog."));
  }

  /** Parses, applies the run's defaults ({@code --detached}, {@code --metricsPort}) and runs. */
  static <O extends SluiceOptions, P extends SluicePipeline.Plan> RunSummary run(
      SluicePipeline<O, P> pipeline, String[] args, PrintStream out) throws Exception {
    O options = parse(pipeline, args);
    if (options.getDetached()) {
      detach(options);
    }
    metricsDefaults(options);
    return PipelineRun.run(pipeline, options, out);
  }

  /**
   * Parses a pipeline's options, rejecting options of no interface in play (including options of
   * other Sluice pipelines) and naming each missing required option.
   */
  static <O extends SluiceOptions> O parse(SluicePipeline<O, ?> pipeline, String[] args) {
    PipelineOptionsFactory.register(pipeline.optionsClass());
    Set<String> own = OptionsDoc.names(pipeline.optionsClass());
    Set<String> beam = beamOptionNames();
    Map<String, Integer> given = new LinkedHashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--")) {
        throw new UsageException(
            "Unexpected argument '" + arg + "': options are given as --name=value");
      }
      String name = arg.substring(2).split("=", 2)[0];
      if (!own.contains(name) && !beam.contains(name)) {
        throw new UsageException(
            "Unknown option --"
                + name
                + " for "
                + pipeline.name()
                + ". Run '"
                + pipeline.name()
                + " --help' for its options.");
      }
      if (given.merge(name, 1, Integer::sum) == 2 && !repeatable(pipeline.optionsClass(), name)) {
        throw new UsageException("Option --" + name + " was given more than once: give it once");
      }
    }
    O options =
        PipelineOptionsFactory.fromArgs(OptionsDoc.normalizeChoices(pipeline.optionsClass(), args))
            .as(pipeline.optionsClass());
    for (OptionsDoc.Option option : OptionsDoc.of(pipeline.optionsClass())) {
      if (option.required() && value(options, option.name()) == null) {
        throw new UsageException(
            "Missing required option --" + option.name() + " (" + option.description() + ")");
      }
    }
    PipelineOptionsValidator.validate(pipeline.optionsClass(), options);
    options.setJobName(jobName(pipeline.name()));
    directDefaults(options, args);
    flinkDefaults(options, args);
    return options;
  }

  /**
   * {@code --metricsPort}: the launcher must be able to see the run while it lasts. The Direct
   * runner returns at once and is asked for its metrics; a Flink run is watched through its
   * JobManager's REST API (the embedded cluster's is given a port and a quick metrics refresh).
   */
  static void metricsDefaults(SluiceOptions options) throws IOException {
    if (options.getMetricsPort() == null) {
      return;
    }
    if (options.getMetricsPort() < 0 || options.getMetricsPort() > 65535) {
      throw new UsageException(
          "--metricsPort must be a port number, not " + options.getMetricsPort());
    }
    String runner = options.getRunner().getSimpleName();
    if (options.getDetached()) {
      throw new UsageException(
          "--metricsPort serves /metrics while the launcher waits for the run; a detached job"
              + " reports through its cluster (Flink's Prometheus reporter: see the README)");
    }
    if (runner.equals("DirectRunner")) {
      options.as(DirectOptions.class).setBlockOnRun(false);
    } else if (runner.equals("FlinkRunner")) {
      FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
      String master = flink.getFlinkMaster();
      if (master == null || master.startsWith("[")) {
        int rest = Ports.free();
        flink.setFlinkConfDir(
            flinkConf(
                    flink.getFlinkConfDir(),
                    List.of(
                        "rest.address: localhost",
                        "rest.bind-address: localhost",
                        "rest.bind-port: " + rest,
                        "metrics.fetcher.update-interval: 1000"))
                .toString());
        options.setMetricsFlinkRest("localhost:" + rest);
      } else {
        options.setMetricsFlinkRest(master);
      }
    } else {
      throw new UsageException(
          "--metricsPort serves Direct and Flink runs; "
              + runner
              + " has its own monitoring (Dataflow: Cloud Monitoring)");
    }
  }

  /**
   * Flink: every step finishes its bundle, writes included, before a checkpoint barrier passes it
   * ({@code --finishBundleBeforeCheckpointing}), unless the run says otherwise. With it, a
   * completed checkpoint means everything read before it is in the table or the dead letters, and
   * only then does KafkaIO commit the consumer group's offsets.
   */
  private static void flinkDefaults(SluiceOptions options, String[] args) {
    if (!options.getRunner().getSimpleName().equals("FlinkRunner")) {
      return;
    }
    FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
    if (!given(args, "finishBundleBeforeCheckpointing")) {
      flink.setFinishBundleBeforeCheckpointing(true);
    }
    // Batch: steps exchange records as they go, rather than one storing its whole output before
    // the next starts (Flink's planner would otherwise materialize the branch where dead letters
    // rejoin, so no row reached the sink before the read was over).
    if (!given(args, "executionModeForBatch")) {
      flink.setExecutionModeForBatch("PIPELINED_FORCED");
    }
    // An embedded cluster uses every core (Beam leaves a local batch environment at 1).
    String master = flink.getFlinkMaster();
    if (!given(args, "parallelism")
        && (master == null || master.equals("[local]") || master.equals("[auto]"))) {
      flink.setParallelism(Runtime.getRuntime().availableProcessors());
    }
  }

  /**
   * A Flink configuration directory for an embedded cluster: the user's configuration file (from
   * {@code --flinkConfDir}, if any) with {@code lines} added.
   */
  private static Path flinkConf(String userDir, List<String> lines) throws IOException {
    Path dir = Files.createTempDirectory("sluice-flink-conf");
    String name = "flink-conf.yaml";
    List<String> all = new ArrayList<>();
    if (userDir != null) {
      for (String candidate : List.of("config.yaml", "flink-conf.yaml")) {
        Path file = Path.of(userDir, candidate);
        if (Files.isRegularFile(file)) {
          name = candidate;
          all.addAll(Files.readAllLines(file));
          break;
        }
      }
    }
    all.addAll(lines);
    Files.write(dir.resolve(name), all);
    dir.toFile().deleteOnExit();
    dir.resolve(name).toFile().deleteOnExit();
    return dir;
  }

  private static boolean given(String[] args, String option) {
    return Arrays.stream(args).anyMatch(a -> a.startsWith("--" + option));
  }

  /**
   * A detached run leaves the job to a cluster: Flink's runner submits without waiting; Dataflow
   * never waits. In-process runners (Direct, Flink {@code [local]}) would die with the launcher.
   */
  private static void detach(SluiceOptions options) {
    String runner = options.getRunner().getSimpleName();
    if (runner.equals("FlinkRunner")) {
      FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
      String master = flink.getFlinkMaster();
      if (master == null || master.startsWith("[")) {
        throw new UsageException(
            "--detached needs a Flink cluster: --flinkMaster=<host:port>, not " + master);
      }
      flink.setAttachedMode(false);
    } else if (!runner.equals("DataflowRunner")) {
      throw new UsageException(
          "--detached needs a runner whose jobs outlive the launcher (FlinkRunner with a cluster,"
              + " DataflowRunner), not "
              + runner);
    }
  }

  /** Set by the test suites: keep the Direct runner's checks on in every launched run. */
  static final String DIRECT_ENFORCEMENT = "sluice.directEnforcement";

  /**
   * Production-like Direct runs: Beam's immutability and encodability checks re-encode every
   * element at every step, so they are off unless asked for ({@code --enforceImmutability=true},
   * {@code --enforceEncodability=true}) or the test suites set {@value #DIRECT_ENFORCEMENT}. Unit
   * tests on {@code TestPipeline} always keep them.
   */
  private static void directDefaults(SluiceOptions options, String[] args) {
    if (!options.getRunner().getSimpleName().equals("DirectRunner")
        || Boolean.getBoolean(DIRECT_ENFORCEMENT)) {
      return;
    }
    DirectOptions direct = options.as(DirectOptions.class);
    if (!given(args, "enforceImmutability")) {
      direct.setEnforceImmutability(false);
    }
    if (!given(args, "enforceEncodability")) {
      direct.setEnforceEncodability(false);
    }
  }

  private static String jobName(String pipeline) {
    return pipeline + "-" + Long.toString(System.currentTimeMillis(), 36);
  }

  private static Object value(PipelineOptions options, String property) {
    try {
      String getter = "get" + Character.toUpperCase(property.charAt(0)) + property.substring(1);
      return options.getClass().getMethod(getter).invoke(options);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read option " + property, e);
    }
  }

  /** Names of the options of every registered interface outside Sluice (Beam's and runners'). */
  /**
   * Whether an option takes a list and may be given repeatedly (Beam's {@code --experiments}): any
   * other option given twice is refused, naming it, before Beam's parser says less.
   */
  private static boolean repeatable(Class<? extends PipelineOptions> options, String name) {
    String getter = "get" + Character.toUpperCase(name.charAt(0)) + name.substring(1);
    List<Class<?>> interfaces = new ArrayList<>(List.of(options));
    interfaces.addAll(PipelineOptionsFactory.getRegisteredOptions());
    for (Class<?> iface : interfaces) {
      for (Method method : iface.getMethods()) {
        if (method.getName().equals(getter) && method.getParameterCount() == 0) {
          Class<?> type = method.getReturnType();
          return type.isArray() || Collection.class.isAssignableFrom(type);
        }
      }
    }
    return false;
  }

  private static Set<String> beamOptionNames() {
    Set<String> names = new HashSet<>();
    for (Class<? extends PipelineOptions> iface : PipelineOptionsFactory.getRegisteredOptions()) {
      if (iface.getName().startsWith("dev.sluice.")) {
        continue;
      }
      for (Method method : iface.getMethods()) {
        String name = method.getName();
        if (method.getParameterCount() == 0 && name.startsWith("get") && name.length() > 3) {
          names.add(Introspector.decapitalize(name.substring(3)));
        } else if (method.getParameterCount() == 0 && name.startsWith("is") && name.length() > 2) {
          names.add(Introspector.decapitalize(name.substring(2)));
        }
      }
    }
    return names;
  }
}

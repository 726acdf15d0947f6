package dev.sluice.runners;

import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.run.PipelineRun;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Optional;

/**
 * Parses the command line, then prints help, runs a pipeline, or runs a tool command. Returns the
 * process exit code: 0 success, 1 a failed run, 2 a usage error (unknown pipeline or option,
 * missing or invalid value), 3 a run that did not account for every record, 4 a closed quality gate
 * (an error data-quality rule failed).
 */
public final class Launcher {
  public static final int OK = Exit.OK;
  public static final int RUN_FAILED = Exit.RUN_FAILED;
  public static final int USAGE = Exit.USAGE;
  public static final int ACCOUNTING = Exit.ACCOUNTING;
  public static final int QUALITY = Exit.QUALITY;

  private final PrintStream out;
  private final PrintStream err;

  public Launcher(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public int execute(String... args) {
    if (args.length == 0 || isHelp(args[0])) {
      out.print(catalog());
      return OK;
    }
    String command = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    try {
      Optional<Command> tool = Command.named(command);
      if (tool.isPresent()) {
        return tool.get().run(rest, out, err);
      }
      Optional<SluicePipeline<?, ?>> pipeline = PipelineCatalog.byName(command);
      if (pipeline.isEmpty()) {
        throw new UsageException(
            "Unknown pipeline or command '" + command + "'. Run --help for the catalog.");
      }
      if (rest.length > 0 && Arrays.stream(rest).anyMatch(Launcher::isHelp)) {
        out.print(OptionsDoc.help(pipeline.get()));
        return OK;
      }
      if (ForkedRun.needed(rest)) {
        return ForkedRun.run(args, out, err);
      }
      PipelineLaunch.run(pipeline.get(), rest, out);
      return OK;
    } catch (UsageException | IllegalArgumentException e) {
      err.println("sluice " + command + ": " + e.getMessage());
      return USAGE;
    } catch (PipelineRun.AccountingException e) {
      err.println("sluice " + command + ": " + e.getMessage());
      return ACCOUNTING;
    } catch (PipelineRun.QualityGateException e) {
      err.println("sluice " + command + ": " + e.getMessage());
      return QUALITY;
    } catch (Exception e) {
      err.println("sluice " + command + ": run failed: " + rootMessage(e));
      e.printStackTrace(err);
      return RUN_FAILED;
    }
  }

  static String catalog() {
    StringBuilder text = new StringBuilder();
    text.append(
        "Sluice: portable Beam pipelines from Kafka, databases and files into tables and lake files.\n\n");
    text.append(
        "Usage: sluice <pipeline> [--option=value ...] [--runner=DirectRunner|FlinkRunner|DataflowRunner]\n");
    text.append("       sluice <pipeline> --help\n\nPipelines:\n");
    for (SluicePipeline<?, ?> pipeline : PipelineCatalog.all()) {
      text.append(String.format("  %-16s %s%n", pipeline.name(), pipeline.description()));
    }
    text.append("\nCommands:\n");
    for (Command command : Command.ALL) {
      text.append(String.format("  %-16s %s%n", command.name(), command.summary()));
    }
    return text.toString();
  }

  private static boolean isHelp(String arg) {
    return arg.equals("--help") || arg.equals("-h") || arg.equals("help");
  }

  private static final String SUPPRESS_RESTARTS =
      "org.apache.flink.runtime.execution.SuppressRestartsException";

  /**
   * The first message in the cause chain that says something of its own: runners wrap user errors
   * in exceptions whose message is only the cause's {@code toString()}.
   */
  static String rootMessage(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null
        && cause.getCause() != cause
        && (cause.getMessage() == null
            // Flink's wrapper of a failure that must not be retried says only that.
            || cause.getClass().getName().equals(SUPPRESS_RESTARTS)
            || cause.getMessage().equals(cause.getCause().toString())
            || cause.getMessage().startsWith(cause.getCause().getClass().getName()))) {
      cause = cause.getCause();
    }
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }
}

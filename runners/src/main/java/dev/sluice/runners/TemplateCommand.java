package dev.sluice.runners;

import dev.sluice.pipelines.core.PipelineCatalog;
import dev.sluice.pipelines.core.SluicePipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/** {@code sluice template --output=<dir> [--pipeline=<name>]}: Flex Template files per pipeline. */
final class TemplateCommand {
  private TemplateCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    Flags flags = Flags.parse(args, List.of("output", "pipeline"));
    Path dir = Path.of(flags.required("output"));
    List<SluicePipeline<?>> pipelines;
    if (flags.get("pipeline") == null) {
      pipelines = PipelineCatalog.all();
    } else {
      pipelines =
          List.of(
              PipelineCatalog.byName(flags.get("pipeline"))
                  .orElseThrow(
                      () ->
                          new Launcher.UsageException(
                              "Unknown pipeline '"
                                  + flags.get("pipeline")
                                  + "'. Run --help for the catalog.")));
    }
    for (SluicePipeline<?> pipeline : pipelines) {
      for (Path file : Templates.write(pipeline, dir)) {
        out.println("wrote " + file);
      }
    }
    return Launcher.OK;
  }
}

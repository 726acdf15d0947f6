package dev.sluice.runners;

/**
 * Entry point of a Dataflow Flex Template image, and of callers that pass only {@code --name=value}
 * arguments (Airflow's {@code BeamRunJavaPipelineOperator}): the launcher, with the pipeline named
 * by the {@value #PIPELINE_ENV} environment variable or by {@code --}{@value #PIPELINE_OPTION}.
 */
public final class FlexTemplateMain {
  static final String PIPELINE_ENV = "SLUICE_PIPELINE";
  static final String PIPELINE_OPTION = "sluicePipeline";

  private FlexTemplateMain() {}

  public static void main(String[] args) {
    String pipeline = System.getenv(PIPELINE_ENV);
    java.util.List<String> rest = new java.util.ArrayList<>();
    for (String arg : args) {
      if (arg.startsWith("--" + PIPELINE_OPTION + "=")) {
        pipeline = arg.substring(PIPELINE_OPTION.length() + 3);
      } else {
        rest.add(arg);
      }
    }
    if (pipeline == null || pipeline.isBlank()) {
      System.err.println(
          PIPELINE_ENV
              + " is not set, nor --"
              + PIPELINE_OPTION
              + "=<name>: one names the pipeline to launch");
      System.exit(Exit.USAGE);
    }
    rest.add(0, pipeline);
    Sluice.main(rest.toArray(String[]::new));
  }
}

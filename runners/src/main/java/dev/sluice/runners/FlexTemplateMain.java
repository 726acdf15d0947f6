package dev.sluice.runners;

/**
 * Entry point of a Dataflow Flex Template image: the launcher, with the pipeline named by the
 * {@value #PIPELINE_ENV} environment variable (Flex Templates pass only {@code --name=value}
 * arguments).
 */
public final class FlexTemplateMain {
  static final String PIPELINE_ENV = "SLUICE_PIPELINE";

  private FlexTemplateMain() {}

  public static void main(String[] args) {
    String pipeline = System.getenv(PIPELINE_ENV);
    if (pipeline == null || pipeline.isBlank()) {
      System.err.println(PIPELINE_ENV + " is not set: it names the pipeline to launch");
      System.exit(Exit.USAGE);
    }
    String[] all = new String[args.length + 1];
    all[0] = pipeline;
    System.arraycopy(args, 0, all, 1, args.length);
    Sluice.main(all);
  }
}

package dev.sluice.runners;

/**
 * The command-line entry point: {@code sluice --help}, {@code sluice <pipeline> --help}, {@code
 * sluice <pipeline> [options]}, {@code sluice demo}, {@code sluice sandbox}.
 */
public final class Sluice {
  private Sluice() {}

  public static void main(String[] args) {
    int code = new Launcher(System.out, System.err).execute(args);
    System.out.flush();
    System.err.flush();
    if (code != 0) {
      System.exit(code);
    }
  }
}

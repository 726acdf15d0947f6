package dev.sluice.io.secrets;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Secrets are given by reference, never as literals: {@code env:NAME} (an environment variable) or
 * {@code file:PATH} (a file's content, trailing newline removed). The resolved value is returned to
 * the caller only; messages name the reference, never the value.
 *
 * <p>References are confined, so that options (which may come from a template's launch parameters)
 * cannot make Sluice read an arbitrary file or variable and send it to the server a URL names. The
 * operator sets the confinement in the process environment, which no pipeline option can change:
 *
 * <ul>
 *   <li>{@code SLUICE_SECRET_DIRS}: the directories {@code file:} references may read from
 *       (separated by {@code :}); default {@value #DEFAULT_DIRS} and {@code ~/.sluice/secrets}.
 *       Paths are resolved (symbolic links followed) before they are compared.
 *   <li>{@code SLUICE_SECRET_ENV_PREFIX}: the prefixes of variable names {@code env:} references
 *       may read (separated by {@code ,}); default {@value #DEFAULT_ENV_PREFIXES}.
 * </ul>
 *
 * The Java system properties {@code sluice.secretDirs} and {@code sluice.secretEnvPrefix} are read
 * when the variables are unset (for embedding Sluice in a JVM of one's own).
 */
public final class Secrets {
  static final String DEFAULT_DIRS = "/run/secrets:/var/run/secrets:/etc/sluice/secrets";
  static final String DEFAULT_ENV_PREFIXES = "SLUICE_,PG";

  private Secrets() {}

  /** Where references may point: directories for files, name prefixes for variables. */
  record Confinement(List<Path> directories, List<String> envPrefixes, String dirsSource) {
    /** The confinement of this process, from its environment. */
    static Confinement ofProcess(Function<String, String> env) {
      String dirs = env.apply("SLUICE_SECRET_DIRS");
      String source = "SLUICE_SECRET_DIRS";
      if (dirs == null) {
        dirs = System.getProperty("sluice.secretDirs");
        source = "sluice.secretDirs";
      }
      if (dirs == null) {
        dirs =
            DEFAULT_DIRS
                + File.pathSeparator
                + Path.of(System.getProperty("user.home"), ".sluice", "secrets");
        source = "the default";
      }
      String prefixes = env.apply("SLUICE_SECRET_ENV_PREFIX");
      if (prefixes == null) {
        prefixes = System.getProperty("sluice.secretEnvPrefix", DEFAULT_ENV_PREFIXES);
      }
      List<Path> directories = new ArrayList<>();
      for (String dir : dirs.split(File.pathSeparator)) {
        if (!dir.isBlank()) {
          directories.add(Path.of(dir.strip()).toAbsolutePath().normalize());
        }
      }
      List<String> names = new ArrayList<>();
      for (String prefix : prefixes.split(",")) {
        if (!prefix.isBlank()) {
          names.add(prefix.strip());
        }
      }
      return new Confinement(List.copyOf(directories), List.copyOf(names), source);
    }

    void checkVariable(String option, String reference, String name) {
      if (envPrefixes.stream().noneMatch(name::startsWith)) {
        throw new IllegalArgumentException(
            "--"
                + option
                + "="
                + reference
                + ": environment variable "
                + name
                + " is not one secrets may be read from; allowed prefixes: "
                + String.join(", ", envPrefixes)
                + " (SLUICE_SECRET_ENV_PREFIX)");
      }
    }

    void checkFile(String option, String reference, Path file) {
      Path resolved;
      try {
        resolved = file.toRealPath();
      } catch (IOException e) {
        resolved = file.toAbsolutePath().normalize();
      }
      for (Path directory : directories) {
        Path real;
        try {
          real = directory.toRealPath();
        } catch (IOException e) {
          real = directory;
        }
        if (resolved.startsWith(real)) {
          return;
        }
      }
      throw new IllegalArgumentException(
          "--"
              + option
              + "="
              + reference
              + ": the file is outside the directories secrets may be read from ("
              + dirsSource
              + ": "
              + String.join(File.pathSeparator, directories.stream().map(Path::toString).toList())
              + "); set SLUICE_SECRET_DIRS");
    }
  }

  /**
   * Fails, naming the option, unless {@code reference} is a well-formed secret reference that the
   * process's confinement allows.
   */
  public static void checkReference(String option, String reference) {
    checkReference(option, reference, System::getenv);
  }

  static void checkReference(String option, String reference, Function<String, String> env) {
    if (reference == null) {
      return;
    }
    String lower = reference.toLowerCase(Locale.ROOT);
    boolean ok =
        (lower.startsWith("env:") && reference.length() > 4)
            || (lower.startsWith("file:") && reference.length() > 5);
    if (!ok) {
      throw new IllegalArgumentException(
          "--"
              + option
              + " must be a reference, env:NAME or file:PATH; literal secrets are not accepted");
    }
    Confinement confinement = Confinement.ofProcess(env);
    if (lower.startsWith("env:")) {
      confinement.checkVariable(option, reference, reference.substring(4));
    } else {
      confinement.checkFile(option, reference, Path.of(reference.substring(5)));
    }
  }

  /** Resolves a reference against the process environment and file system. */
  public static String resolve(String option, String reference) {
    return resolve(option, reference, System::getenv);
  }

  static String resolve(String option, String reference, Function<String, String> env) {
    if (reference == null) {
      return null;
    }
    checkReference(option, reference, env);
    if (reference.regionMatches(true, 0, "env:", 0, 4)) {
      String name = reference.substring(4);
      String value = env.apply(name);
      if (value == null) {
        throw new IllegalArgumentException(
            "--" + option + "=" + reference + ": environment variable " + name + " is not set");
      }
      return value;
    }
    Path path = Path.of(reference.substring(5));
    try {
      return Files.readString(path, StandardCharsets.UTF_8).replaceAll("\\r?\\n$", "");
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--"
              + option
              + "="
              + reference
              + ": cannot read the secret file ("
              + e.getClass().getSimpleName()
              + ")");
    }
  }
}

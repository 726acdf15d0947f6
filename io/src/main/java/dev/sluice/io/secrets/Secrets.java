package dev.sluice.io.secrets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Function;

/**
 * Secrets are given by reference, never as literals: {@code env:NAME} (an environment variable) or
 * {@code file:PATH} (a file's content, trailing newline removed). The resolved value is returned to
 * the caller only; messages name the reference, never the value.
 */
public final class Secrets {
  private Secrets() {}

  /** Fails, naming the option, unless {@code reference} is a well-formed secret reference. */
  public static void checkReference(String option, String reference) {
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
  }

  /** Resolves a reference against the process environment and file system. */
  public static String resolve(String option, String reference) {
    return resolve(option, reference, System::getenv);
  }

  static String resolve(String option, String reference, Function<String, String> env) {
    if (reference == null) {
      return null;
    }
    checkReference(option, reference);
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

package dev.sluice.io.files;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Startup checks of a directory a run will write to, so that a path that cannot hold files fails
 * before anything is read rather than after everything was processed. Only local paths are checked
 * (plain paths and {@code file:} URIs); object-store locations are left to their file system.
 */
public final class LocalDirectory {
  private LocalDirectory() {}

  /**
   * Fails, naming the option, when {@code location} is a local path that is a file, lies under a
   * file, or lies under a directory this process cannot write.
   */
  public static void checkWritable(String option, String location) {
    if (location == null || (location.contains("://") && !location.startsWith("file://"))) {
      return;
    }
    Path path = Path.of(location.replaceFirst("^file:(//)?", "")).toAbsolutePath();
    if (Files.exists(path) && !Files.isDirectory(path)) {
      throw new IllegalArgumentException(
          "--" + option + "=" + location + " is a file, not a directory");
    }
    Path existing = path;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return;
    }
    if (!Files.isDirectory(existing)) {
      throw new IllegalArgumentException(
          "--" + option + "=" + location + " cannot be created: " + existing + " is a file");
    }
    if (!Files.isWritable(existing)) {
      throw new IllegalArgumentException(
          "--" + option + "=" + location + " cannot be written: " + existing + " is read-only");
    }
  }
}

package dev.sluice.io.files;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files an input glob matches, each once, named by its real path. On a local disk the glob's
 * directory is walked following symbolic links, so {@code latest -> day1} is read, but only once:
 * every match is resolved to its real path and a file reached by two paths is one file; a link to a
 * directory above it ({@code day1/up -> ..}) is a loop, stepped over. Trees named in {@code
 * excluded} (the run's own output and dead letters) are left out of the match, so a run never reads
 * back what it wrote. Other file systems (gs://) are matched by Beam, excluded trees left out by
 * prefix. Listing is linear in the number of files.
 */
public final class FileListing {
  private static final Logger LOG = LoggerFactory.getLogger(FileListing.class);

  private FileListing() {}

  /**
   * A matched file as listed.
   *
   * @param path the file's real path (its URI for a remote file system)
   * @param size its size in bytes
   * @param modified its last modification, epoch millis (0 when the file system gives none)
   */
  public record Listed(String path, long size, long modified) implements Serializable {}

  /**
   * The files matching {@code glob}, sorted by path, each once, none under {@code excluded}.
   *
   * @param excluded directories (local paths or URIs) whose files are never matched
   */
  public static List<Listed> list(String glob, List<String> excluded) throws IOException {
    String plain = glob.startsWith("file:") ? glob.substring("file:".length()) : glob;
    if (plain.contains("://")) {
      return remote(glob, excluded);
    }
    Path pattern = Path.of(plain).toAbsolutePath().normalize();
    Path root = walkRoot(pattern);
    Map<String, Listed> found = new TreeMap<>();
    if (!Files.exists(root)) {
      return List.of();
    }
    List<Path> skip = new ArrayList<>();
    for (String dir : excluded) {
      skip.add(real(Path.of(dir.replaceFirst("^file:", "")).toAbsolutePath().normalize()));
    }
    PathMatcher matcher =
        pattern.getFileSystem().getPathMatcher("glob:" + escapeBackslashes(pattern.toString()));
    if (!hasWildcard(pattern.toString())) {
      if (Files.isRegularFile(pattern)) {
        add(found, pattern, Files.readAttributes(pattern, BasicFileAttributes.class));
      }
      return List.copyOf(found.values());
    }
    int[] loops = {0};
    int[] left = {0};
    Files.walkFileTree(
        root,
        EnumSet.of(FileVisitOption.FOLLOW_LINKS),
        Integer.MAX_VALUE,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
            Path realDir = real(dir);
            for (Path tree : skip) {
              if (realDir.startsWith(tree)) {
                left[0]++;
                return FileVisitResult.SKIP_SUBTREE;
              }
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            if (attributes.isRegularFile() && matcher.matches(file)) {
              Path realFile = real(file);
              if (skip.stream().noneMatch(realFile::startsWith)) {
                add(found, realFile, attributes);
              }
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof FileSystemLoopException) {
              loops[0]++;
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }
        });
    if (loops[0] > 0) {
      LOG.warn(
          "{}: {} symbolic link(s) lead back to a directory above them (a loop): not followed",
          glob,
          loops[0]);
    }
    if (left[0] > 0) {
      LOG.info("{}: the run's own output and dead-letter trees are left out of the match", glob);
    }
    return List.copyOf(found.values());
  }

  private static void add(Map<String, Listed> found, Path file, BasicFileAttributes attributes) {
    String path = real(file).toString();
    found.putIfAbsent(
        path, new Listed(path, attributes.size(), attributes.lastModifiedTime().toMillis()));
  }

  /** The path with every link resolved, or as given when it cannot be resolved. */
  static Path real(Path path) {
    try {
      return path.toRealPath();
    } catch (IOException e) {
      return path;
    }
  }

  /** The deepest directory of the pattern without a wildcard: where the walk starts. */
  static Path walkRoot(Path pattern) {
    Path root = pattern.getRoot();
    Path dir = root;
    for (Path part : pattern) {
      if (hasWildcard(part.toString())) {
        return dir;
      }
      dir = dir.resolve(part);
    }
    return dir.getParent() == null ? dir : dir.getParent();
  }

  static boolean hasWildcard(String text) {
    for (char c : text.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == '{') {
        return true;
      }
    }
    return false;
  }

  private static String escapeBackslashes(String pattern) {
    return pattern.replace("\\", "\\\\");
  }

  private static List<Listed> remote(String glob, List<String> excluded) throws IOException {
    MatchResult match = FileSystems.match(glob, EmptyMatchTreatment.ALLOW);
    Map<String, Listed> found = new TreeMap<>();
    if (match.status() == MatchResult.Status.OK) {
      for (MatchResult.Metadata metadata : match.metadata()) {
        String path = metadata.resourceId().toString();
        if (!metadata.resourceId().isDirectory() && !under(path, excluded)) {
          found.putIfAbsent(
              path, new Listed(path, metadata.sizeBytes(), metadata.lastModifiedMillis()));
        }
      }
    }
    return List.copyOf(found.values());
  }

  private static boolean under(String path, List<String> excluded) {
    for (String dir : excluded) {
      String prefix = dir.endsWith("/") ? dir : dir + "/";
      if (path.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** The file's size and modification time now, or null when it is gone. */
  public static @Nullable Listed stat(String path) {
    try {
      MatchResult.Metadata metadata = FileSystems.matchSingleFileSpec(path);
      return new Listed(path, metadata.sizeBytes(), metadata.lastModifiedMillis());
    } catch (IOException e) {
      return null;
    }
  }
}

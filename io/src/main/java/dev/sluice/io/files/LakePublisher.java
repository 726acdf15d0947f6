package dev.sluice.io.files;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * Publishes a run's files from its staging directory into the lake. Each file keeps its staged
 * name, which belongs to the input it came from ({@link LakeNames}); the run replaces the lake's
 * files that carry its own prefixes (the same input read again) and no other file, so two inputs
 * loaded into one lake never erase each other. Published files go in first, then the run's own
 * manifest under {@code _sluice/runs/} and, last, the lake's {@code _SUCCESS}, which lists every
 * data file of the lake. Readers trust only what {@code _SUCCESS} lists. Works on any file system
 * Beam knows ({@link FileSystems}): renames are atomic moves on a local disk and copy-then-delete
 * on object stores such as GCS.
 */
public final class LakePublisher {
  public static final String MANIFEST = "_SUCCESS";

  /** Where, in a run's staging directory, the run's data files are listed. */
  public static final String FILE_LIST = "_files";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LakePublisher() {}

  /**
   * Moves the run's data files, as {@link WriteDataFiles} listed them in {@code staging/_files}
   * (files of bundles the runner did not keep are not listed, and not published), from {@code
   * staging/<partition>/} to {@code output/<partition>/} under the same names, after moving aside
   * the lake's files whose names start with one of {@code ownPrefixes} (what earlier runs wrote for
   * the same input); then writes this run's manifest and the lake's {@code _SUCCESS} ({@code
   * manifest} plus the lists of files), and removes the staging and replaced files.
   *
   * @return the published files, relative to {@code output}
   */
  public static List<String> publish(
      String staging, String output, List<String> ownPrefixes, Map<String, Object> manifest)
      throws IOException {
    String stagingDir = slash(staging);
    String outputDir = slash(output);
    List<String> staged =
        WriteDataFiles.listed(stagingDir + FILE_LIST).stream().map(WrittenFile::path).toList();
    String run = LakeNames.tag(stagingDir);
    String trash = outputDir + "_sluice/replaced-" + run + "/";
    Set<String> own = new HashSet<>(ownPrefixes);
    List<String> old =
        partitionFiles(outputDir).stream().filter(f -> ownedBy(fileName(f), own)).toList();
    move(old, old.stream().map(f -> trash + f.substring(outputDir.length())).toList());
    List<String> published = new ArrayList<>();
    List<String> targets = new ArrayList<>();
    for (String file : staged) {
      String relative = file.substring(stagingDir.length());
      published.add(relative);
      targets.add(outputDir + relative);
    }
    try {
      move(staged, targets);
    } catch (IOException | RuntimeException e) {
      // Put the replaced files back: a failed publish leaves the lake as it was.
      try {
        move(old.stream().map(f -> trash + f.substring(outputDir.length())).toList(), old);
      } catch (IOException | RuntimeException restore) {
        e.addSuppressed(restore);
      }
      throw e;
    }
    Set<String> publishedSet = new HashSet<>(published);
    List<String> replaced =
        old.stream()
            .map(f -> f.substring(outputDir.length()))
            .filter(f -> !publishedSet.contains(f))
            .toList();
    Map<String, Object> ofRun = new LinkedHashMap<>(manifest);
    ofRun.put("published", published);
    ofRun.put("removed", replaced);
    write(outputDir + "_sluice/runs/" + Instant.now().toEpochMilli() + "-" + run + ".json", ofRun);
    Map<String, Object> ofLake = new LinkedHashMap<>(ofRun);
    ofLake.put(
        "files",
        partitionFiles(outputDir).stream().map(f -> f.substring(outputDir.length())).toList());
    write(outputDir + MANIFEST, ofLake);
    delete(trash);
    delete(stagingDir);
    return published;
  }

  /**
   * Deletes a run's staging directory if it is still there: the run did not publish (it failed, or
   * its gate closed), and what it staged must not linger next to the lake.
   */
  public static void discard(String staging) throws IOException {
    delete(slash(staging));
  }

  /** Local convenience: {@link #publish(String, String, List, Map)} on paths. */
  public static List<String> publish(
      Path staging, Path output, List<String> ownPrefixes, Map<String, Object> manifest)
      throws IOException {
    return publish(staging.toString(), output.toString(), ownPrefixes, manifest);
  }

  /** Writes JSON to a temporary file, then renames it into place. */
  private static void write(String file, Map<String, Object> content) throws IOException {
    ResourceId temporary = FileSystems.matchNewResource(file + ".tmp", false);
    try (OutputStream out =
        Channels.newOutputStream(FileSystems.create(temporary, MimeTypes.TEXT))) {
      out.write(JSON.writeValueAsString(content).getBytes(StandardCharsets.UTF_8));
    }
    FileSystems.rename(List.of(temporary), List.of(FileSystems.matchNewResource(file, false)));
  }

  private static String fileName(String file) {
    return file.substring(file.lastIndexOf('/') + 1);
  }

  /**
   * Whether a file name starts with one of {@code prefixes} (each ending with {@code -}): its
   * prefixes up to each {@code -} looked up in the set, so that many inputs cost no more than a few
   * look-ups per file.
   */
  public static boolean ownedBy(String name, Set<String> prefixes) {
    for (int dash = name.indexOf('-'); dash >= 0; dash = name.indexOf('-', dash + 1)) {
      if (prefixes.contains(name.substring(0, dash + 1))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The data files of a local lake: {@code dt=*}/*.avro and *.parquet, staging and Sluice's folders
   * excluded.
   */
  public static List<Path> dataFiles(Path output) throws IOException {
    return partitionFiles(slash(output.toString())).stream().map(Path::of).toList();
  }

  /** {@code dir/dt=*}/*.avro and *.parquet, sorted; none if the directory does not exist. */
  private static List<String> partitionFiles(String dir) throws IOException {
    List<String> files = new ArrayList<>(files(dir, "dt=*/*.avro"));
    files.addAll(files(dir, "dt=*/*.parquet"));
    files.sort(Comparator.naturalOrder());
    return files;
  }

  /** The files under {@code dir} matching {@code pattern}, sorted; none if it does not exist. */
  private static List<String> files(String dir, String pattern) throws IOException {
    MatchResult match = FileSystems.match(dir + pattern, EmptyMatchTreatment.ALLOW_IF_WILDCARD);
    if (match.status() == MatchResult.Status.NOT_FOUND) {
      return List.of();
    }
    List<String> files = new ArrayList<>();
    for (MatchResult.Metadata metadata : match.metadata()) {
      files.add(metadata.resourceId().toString());
    }
    files.sort(Comparator.naturalOrder());
    return files;
  }

  private static void move(List<String> from, List<String> to) throws IOException {
    if (from.isEmpty()) {
      return;
    }
    FileSystems.rename(resources(from), resources(to));
  }

  private static List<ResourceId> resources(List<String> files) {
    return files.stream().map(f -> FileSystems.matchNewResource(f, false)).toList();
  }

  /** Deletes every file under {@code dir} (and, on a local disk, the directories too). */
  private static void delete(String dir) throws IOException {
    MatchResult match = FileSystems.match(dir + "**", EmptyMatchTreatment.ALLOW);
    List<ResourceId> files = new ArrayList<>();
    if (match.status() == MatchResult.Status.OK) {
      for (MatchResult.Metadata metadata : match.metadata()) {
        files.add(metadata.resourceId());
      }
    }
    FileSystems.delete(files, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    if (FileSystems.matchNewResource(dir, true).getScheme().equals("file")) {
      deleteTree(Path.of(dir.replaceFirst("^file:", "")));
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** The directory as the file system names it: absolute, with a trailing slash. */
  private static String slash(String dir) {
    return FileSystems.matchNewResource(dir, true).toString();
  }
}

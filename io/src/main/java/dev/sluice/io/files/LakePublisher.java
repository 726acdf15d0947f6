package dev.sluice.io.files;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * Publishes a run's files from its staging directory into the lake, then writes the manifest last.
 * Each file lands under its partition with a name derived from the run's watermark range, so
 * rerunning the same range replaces its files instead of adding copies. A full refresh first moves
 * every earlier data file aside and deletes it once the new files are in. Readers trust only what
 * {@code _SUCCESS} lists. Works on any file system Beam knows ({@link FileSystems}): renames are
 * atomic moves on a local disk and copy-then-delete on object stores such as GCS.
 */
public final class LakePublisher {
  public static final String MANIFEST = "_SUCCESS";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LakePublisher() {}

  /**
   * Moves {@code staging/dt=.../*.avro} to {@code output/dt=.../part-<tag>-*.avro} (the staged name
   * kept when {@code tag} is null), then writes the manifest (with {@code manifest} plus the list
   * of files) and removes the staging files.
   *
   * @return the published files, relative to {@code output}
   */
  public static List<String> publish(
      String staging, String output, String tag, boolean replaceAll, Map<String, Object> manifest)
      throws IOException {
    String stagingDir = slash(staging);
    String outputDir = slash(output);
    List<String> staged = partitionFiles(stagingDir);
    String trash = outputDir + "_sluice/replaced-" + (tag == null ? "run" : tag) + "/";
    if (replaceAll) {
      List<String> old = partitionFiles(outputDir);
      move(old, old.stream().map(f -> trash + f.substring(outputDir.length())).toList());
    }
    List<String> published = new ArrayList<>();
    List<String> targets = new ArrayList<>();
    for (String file : staged) {
      String relative = file.substring(stagingDir.length());
      int slash = relative.lastIndexOf('/');
      String name = relative.substring(slash + 1);
      if (tag != null) {
        name = name.replaceFirst("^part", "part-" + tag);
      }
      String target = relative.substring(0, slash + 1) + name;
      published.add(target);
      targets.add(outputDir + target);
    }
    move(staged, targets);
    Map<String, Object> content = new java.util.LinkedHashMap<>(manifest);
    content.put("files", published);
    ResourceId temporary = FileSystems.matchNewResource(outputDir + MANIFEST + ".tmp", false);
    try (OutputStream out =
        Channels.newOutputStream(FileSystems.create(temporary, MimeTypes.TEXT))) {
      out.write(JSON.writeValueAsString(content).getBytes(StandardCharsets.UTF_8));
    }
    FileSystems.rename(
        List.of(temporary), List.of(FileSystems.matchNewResource(outputDir + MANIFEST, false)));
    delete(trash);
    delete(stagingDir);
    return published;
  }

  /** Local convenience: {@link #publish(String, String, String, boolean, Map)} on paths. */
  public static List<String> publish(
      Path staging, Path output, String tag, boolean replaceAll, Map<String, Object> manifest)
      throws IOException {
    return publish(staging.toString(), output.toString(), tag, replaceAll, manifest);
  }

  /** The data files of a local lake: {@code dt=*}/*.avro, staging and Sluice's folders excluded. */
  public static List<Path> dataFiles(Path output) throws IOException {
    return partitionFiles(slash(output.toString())).stream().map(Path::of).toList();
  }

  /** {@code dir/dt=*}/*.avro, sorted; none if the directory does not exist. */
  private static List<String> partitionFiles(String dir) throws IOException {
    MatchResult match =
        FileSystems.match(dir + "dt=*/*.avro", EmptyMatchTreatment.ALLOW_IF_WILDCARD);
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

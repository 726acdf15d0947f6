package dev.sluice.io.files;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Publishes a run's files from its staging directory into the lake, then writes the manifest last.
 * Each file lands under its partition with a name derived from the run's watermark range, so
 * rerunning the same range replaces its files instead of adding copies. A full refresh first moves
 * every earlier data file aside and deletes it once the new files are in. Readers trust only what
 * {@code _SUCCESS} lists. Local file systems only (the lake of the Direct and Flink runners here).
 */
public final class LakePublisher {
  public static final String MANIFEST = "_SUCCESS";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LakePublisher() {}

  /**
   * Moves {@code staging/dt=.../*.avro} to {@code output/dt=.../part-<tag>-*.avro} (the staged name
   * kept when {@code tag} is null), then writes the manifest (with {@code manifest} plus the list
   * of files) and removes the staging directory.
   *
   * @return the published files, relative to {@code output}
   */
  public static List<String> publish(
      Path staging, Path output, String tag, boolean replaceAll, Map<String, Object> manifest)
      throws IOException {
    List<Path> staged;
    try (Stream<Path> walk = Files.exists(staging) ? Files.walk(staging) : Stream.empty()) {
      staged =
          walk.filter(p -> p.getFileName().toString().endsWith(".avro"))
              .filter(p -> !staging.relativize(p).toString().startsWith("."))
              .sorted()
              .toList();
    }
    Path trash = output.resolve("_sluice/replaced-" + (tag == null ? "run" : tag));
    if (replaceAll) {
      for (Path old : dataFiles(output)) {
        Path target = trash.resolve(output.relativize(old));
        Files.createDirectories(target.getParent());
        Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    List<String> published = new ArrayList<>();
    for (Path file : staged) {
      Path relative = staging.relativize(file);
      String name =
          tag == null
              ? relative.getFileName().toString()
              : relative.getFileName().toString().replaceFirst("^part", "part-" + tag);
      Path target = output.resolve(relative).resolveSibling(name);
      Files.createDirectories(target.getParent());
      Files.move(file, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      published.add(output.relativize(target).toString());
    }
    Map<String, Object> content = new java.util.LinkedHashMap<>(manifest);
    content.put("files", published);
    Path temporary = output.resolve(MANIFEST + ".tmp");
    Files.writeString(temporary, JSON.writeValueAsString(content), StandardCharsets.UTF_8);
    Files.move(
        temporary,
        output.resolve(MANIFEST),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    deleteTree(trash);
    deleteTree(staging);
    return published;
  }

  /** The lake's data files: {@code dt=*}/*.avro, staging and Sluice's own folders excluded. */
  public static List<Path> dataFiles(Path output) throws IOException {
    if (!Files.exists(output)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(output)) {
      return walk.filter(p -> p.getFileName().toString().endsWith(".avro"))
          .filter(p -> output.relativize(p).getName(0).toString().startsWith("dt="))
          .sorted()
          .toList();
    }
  }

  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

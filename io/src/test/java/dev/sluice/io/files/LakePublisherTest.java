package dev.sluice.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing staged files: flattened into their partitions, replacing a run's own files only. */
class LakePublisherTest {
  @TempDir Path dir;

  private static Path file(Path path, String content) throws Exception {
    Files.createDirectories(path.getParent());
    return Files.writeString(path, content);
  }

  private static List<String> lake(Path output) throws Exception {
    try (Stream<Path> files = Files.walk(output)) {
      return files
          .filter(Files::isRegularFile)
          .map(f -> output.relativize(f).toString())
          .filter(f -> f.startsWith("dt="))
          .sorted()
          .toList();
    }
  }

  /** A staged file, listed as {@link WriteDataFiles} lists the files of the bundles it kept. */
  private static void staged(Path staging, String relative, String content) throws Exception {
    Path file = file(staging.resolve(relative), content);
    String partition = relative.substring(0, relative.indexOf('/'));
    String name = relative.substring(relative.indexOf('/') + 1);
    Files.createDirectories(staging.resolve(LakePublisher.FILE_LIST));
    Files.writeString(
        staging.resolve(LakePublisher.FILE_LIST).resolve(name + ".files"),
        new WrittenFile(file.toString(), partition, "part-aaa", 1, content.length(), null).toJson()
            + "\n");
  }

  @Test
  void listedFilesArePublishedIntoTheirPartitionReplacingOwnFilesOnly() throws Exception {
    Path output = dir.resolve("lake");
    file(output.resolve("dt=2026-11-25/part-aaa-00000-of-00001.avro"), "old a");
    file(output.resolve("dt=2026-11-24/part-aaa-00000-of-00001.avro"), "old a, gone");
    file(output.resolve("dt=2026-11-25/part-bbb-00000-of-00001.avro"), "other input");
    Path staging = dir.resolve("lake/_sluice/staging-1");
    staged(staging, "dt=2026-11-25/part-aaa-1.avro", "new a");
    staged(staging, "dt=2026-11-26/part-aaa-2.avro", "new a 26");
    // A file a bundle wrote but the runner did not keep (a retried bundle's) is never listed.
    file(staging.resolve("dt=2026-11-25/part-aaa-3.avro"), "of a failed attempt");

    List<String> published =
        LakePublisher.publish(staging, output, List.of("part-aaa-"), Map.of("input", "a"));

    assertThat(
        published,
        equalTo(List.of("dt=2026-11-25/part-aaa-1.avro", "dt=2026-11-26/part-aaa-2.avro")));
    assertThat(
        lake(output),
        equalTo(
            List.of(
                "dt=2026-11-25/part-aaa-1.avro",
                "dt=2026-11-25/part-bbb-00000-of-00001.avro",
                "dt=2026-11-26/part-aaa-2.avro")));
    assertThat(Files.readString(output.resolve("dt=2026-11-25/part-aaa-1.avro")), equalTo("new a"));
    assertThat(Files.exists(staging), is(false));
  }

  @Test
  void aFileIsOwnedWhenItsNameStartsWithAPrefixUpToADash() {
    Set<String> own = Set.of("part-aaa-", "part-replay-x1-");
    assertThat(LakePublisher.ownedBy("part-aaa-00000-of-00001.avro", own), is(true));
    assertThat(LakePublisher.ownedBy("part-replay-x1-00000-of-00001.avro", own), is(true));
    assertThat(LakePublisher.ownedBy("part-aaab-00000-of-00001.avro", own), is(false));
    assertThat(LakePublisher.ownedBy("part-bbb-00000-of-00001.avro", own), is(false));
  }
}

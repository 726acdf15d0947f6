package dev.sluice.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Listing a glob on a real file system: links, loops, excluded trees. */
class FileListingTest {
  @TempDir Path dir;

  private List<String> list(String glob, String... excluded) throws Exception {
    Path root = dir.toRealPath();
    return FileListing.list(glob, List.of(excluded)).stream()
        .map(f -> root.relativize(Path.of(f.path())).toString())
        .toList();
  }

  @Test
  void eachRealFileOnceThroughLinksAndLoops() throws Exception {
    Path day1 = Files.createDirectories(dir.resolve("in/day1"));
    Files.writeString(day1.resolve("a.csv"), "x\n");
    Files.writeString(dir.resolve("in/b.csv"), "y\n");
    Files.createSymbolicLink(dir.resolve("in/latest"), day1);
    Files.createSymbolicLink(day1.resolve("up"), dir.resolve("in"));
    Files.createSymbolicLink(dir.resolve("in/c.csv"), dir.resolve("in/b.csv"));

    assertThat(list(dir + "/in/**.csv"), equalTo(List.of("in/b.csv", "in/day1/a.csv")));
    assertThat(list(dir + "/in/latest/*.csv"), equalTo(List.of("in/day1/a.csv")));
    assertThat(list(dir + "/in/*.csv"), equalTo(List.of("in/b.csv")));
    assertThat(list(dir + "/in/day1/a.csv"), equalTo(List.of("in/day1/a.csv")));
    assertThat(list(dir + "/in/none/*.csv"), equalTo(List.of()));
  }

  @Test
  void excludedTreesAreLeftOutOfTheMatch() throws Exception {
    Files.createDirectories(dir.resolve("root/in"));
    Files.createDirectories(dir.resolve("root/lake/dt=2026-11-25"));
    Files.writeString(dir.resolve("root/in/a.csv"), "x\n");
    Files.writeString(dir.resolve("root/lake/dt=2026-11-25/part-1.csv"), "lake\n");
    Files.writeString(dir.resolve("root/lake/_SUCCESS"), "{}");

    assertThat(
        list(dir + "/root/**", dir.resolve("root/lake").toString()),
        equalTo(List.of("root/in/a.csv")));
    assertThat(list(dir + "/root/**").size(), equalTo(3));
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.pipelines.filestolake.FilesToLakeOptions;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input files as a real file system presents them: symbolic links and link loops, a glob that
 * covers the run's own output, files still being written, lines too long to hold. Each is read
 * once, never read back, never read in part.
 */
class FileInputsTest extends LauncherCalls {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;

  private static String line(long id) {
    return id + ",1,1.00,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,\n";
  }

  private int filesToLake(String input, Path lake, Path dlq, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "files-to-lake",
                "--input=" + input,
                "--output=" + lake,
                "--deadLetter=file:" + dlq,
                "--runReport=" + dir.resolve("report.json")));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  private long counter(String name) throws Exception {
    JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    return report.get("counters").get(name).asLong();
  }

  private static List<Long> ids(Path lake) {
    List<Long> ids = new ArrayList<>();
    LakeFiles.readAvro(lake, Order.class)
        .values()
        .forEach(o -> o.forEach(r -> ids.add(r.getOrderId())));
    ids.sort(null);
    return ids;
  }

  /**
   * Through {@code latest -> day1} a file is reached twice, and {@code day1/up -> ..} is a loop:
   * each real file is read once, named by its real path, and the loop is stepped over.
   */
  @Test
  void symbolicLinksAndLoopsReadEachRealFileOnce() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Path day1 = Files.createDirectories(in.resolve("day1"));
    Files.writeString(day1.resolve("a.csv"), HEADER + line(1) + line(2));
    Files.createSymbolicLink(in.resolve("latest"), day1);
    Files.createSymbolicLink(day1.resolve("up"), in);

    assertOk(filesToLake(in + "/**.csv", dir.resolve("lake"), dir.resolve("dlq")));

    assertThat(counter("read"), is(2L));
    assertThat(counter("written"), is(2L));
    assertThat(ids(dir.resolve("lake")), equalTo(List.of(1L, 2L)));
    JsonNode manifest = new ObjectMapper().readTree(dir.resolve("lake/_SUCCESS").toFile());
    assertThat(manifest.get("input_files").size(), is(1));
    assertThat(
        manifest.get("input_files").get(0).asText(),
        equalTo(day1.toRealPath().resolve("a.csv").toString()));
  }

  /**
   * A glob that covers the lake and the dead letters would read them back, and the dead letters
   * would grow with every rerun: the run's own output and dead-letter trees are left out of the
   * match, so every rerun reads the same three lines.
   */
  @Test
  void aGlobCoveringTheOutputNeverReadsTheLakeBack() throws Exception {
    Path root = dir.resolve("root");
    Path in = Files.createDirectories(root.resolve("in"));
    Files.writeString(in.resolve("a.csv"), HEADER + line(1) + "not,an,order\n" + line(2));
    for (int run = 1; run <= 3; run++) {
      out.reset();
      assertOk(filesToLake(root + "/**", root.resolve("lake"), root.resolve("dlq")));
      assertThat("run " + run, counter("read"), is(3L));
      assertThat(counter("written"), is(2L));
      assertThat(counter("dead_lettered"), is(1L));
      assertThat(LakeFiles.readDeadLetters(root.resolve("dlq")).size(), is(1));
      assertThat(ids(root.resolve("lake")), equalTo(List.of(1L, 2L)));
    }
  }

  private FilesToLakeOptions options(Path in, Path lake) {
    FilesToLakeOptions options = PipelineOptionsFactory.as(FilesToLakeOptions.class);
    options.setInput(in + "/*.csv");
    options.setOutput(lake.toString());
    options.setDeadLetter("file:" + dir.resolve("dlq"));
    return options;
  }

  /**
   * A bounded run reads the files it listed when it started. One that grew after the listing (still
   * being written: its last line cut) fails the run naming it; one whose modification time changed
   * while the run read it fails the run too; either way nothing is published.
   */
  @Test
  void aFileThatChangesWhileTheRunReadsItFailsTheRunAndNothingIsPublished() throws Exception {
    Path in = Files.createDirectories(dir.resolve("growing"));
    Path file = Files.writeString(in.resolve("a.csv"), HEADER + line(1));
    Path lake = dir.resolve("lake-growing");
    FilesToLake pipeline = new FilesToLake();
    FilesToLakeOptions options = options(in, lake);
    FilesToLake.Plan plan = pipeline.plan(options);
    Files.writeString(
        file,
        "2,1,1.00,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,partial-no",
        StandardOpenOption.APPEND);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    Exception grew =
        assertThrows(Exception.class, () -> PipelineRun.run(pipeline, options, quiet, plan));
    assertThat(messages(grew), containsString(file.toString()));
    assertThat(messages(grew), containsString("changed while it was read"));
    assertThat(LakeFiles.files(lake, ".avro").isEmpty(), is(true));

    // Same bytes, a new modification time after the listing: the check before publishing sees it.
    FilesToLakeOptions again = options(in, lake);
    FilesToLake.Plan listed = pipeline.plan(again);
    Files.setLastModifiedTime(
        file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5_000));
    Exception touched =
        assertThrows(Exception.class, () -> PipelineRun.run(pipeline, again, quiet, listed));
    assertThat(messages(touched), containsString("changed while the run read them"));
    assertThat(messages(touched), containsString(file.toString()));
    assertThat(LakeFiles.files(lake, ".avro").isEmpty(), is(true));

    // Once it no longer changes, its last line (complete, just without a line break) is loaded.
    assertOk(filesToLake(in + "/*.csv", lake, dir.resolve("dlq")));
    assertThat(ids(lake), equalTo(List.of(1L, 2L)));
  }

  private static String messages(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append('\n');
    }
    return all.toString();
  }

  /**
   * A line longer than {@code --maxLineBytes} is never held whole: it is a dead letter with its
   * origin and its first bytes, and the lines around it load.
   */
  @Test
  void aLineLongerThanTheLimitIsADeadLetterNotAnOutOfMemoryError() throws Exception {
    Path in = Files.createDirectories(dir.resolve("long"));
    String huge = "9," + "x".repeat(5_000) + "\n";
    Files.writeString(in.resolve("a.csv"), HEADER + line(1) + huge + line(2));
    assertOk(
        filesToLake(
            in + "/*.csv",
            dir.resolve("lake-long"),
            dir.resolve("dlq-long"),
            "--maxLineBytes=1000"));
    assertThat(counter("read"), is(3L));
    assertThat(counter("written"), is(2L));
    assertThat(counter("dead_lettered"), is(1L));
    assertBalanced(dir.resolve("report.json"));
    List<DeadLetter> dead = LakeFiles.readDeadLetters(dir.resolve("dlq-long"));
    assertThat(dead.size(), is(1));
    assertThat(dead.get(0).getOrigin(), equalTo("file:" + in.toRealPath().resolve("a.csv") + "#3"));
    assertThat(dead.get(0).getReason(), equalTo("parse"));
    assertThat(
        dead.get(0).getErrorMessage(), containsString("5002 bytes long, over --maxLineBytes=1000"));
    assertThat(DeadLetterJson.bytes(dead.get(0).getPayload()).length, is(1000));
  }

  /** A long lineage list is summarized in the printed summary; the report keeps every entry. */
  @Test
  void aLongLineageListIsSummarizedWhenPrinted() throws Exception {
    Path in = Files.createDirectories(dir.resolve("many"));
    for (int i = 1; i <= 8; i++) {
      Files.writeString(in.resolve("f" + i + ".csv"), HEADER + line(i));
    }
    assertOk(filesToLake(in + "/*.csv", dir.resolve("lake-many"), dir.resolve("dlq-many")));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(printed, containsString("8 in all, listed in the run report"));
    JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    assertThat(report.get("lineage").get("sources").size(), is(8));
  }
}

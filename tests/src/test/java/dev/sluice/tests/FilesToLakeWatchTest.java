package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.is;

import dev.sluice.pipelines.core.PipelineRun;
import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.pipelines.filestolake.FilesToLakeOptions;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** files-to-lake with --watch: files that appear after the start are picked up, same transforms. */
class FilesToLakeWatchTest {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;

  private static String line(long id) {
    return id + ",1,1.00,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,\n";
  }

  @Test
  void watchingPicksUpNewFilesAndDeadLettersTheirBadLines() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(in.resolve("a.csv"), HEADER + line(1), StandardCharsets.UTF_8);
    FilesToLakeOptions options = PipelineOptionsFactory.as(FilesToLakeOptions.class);
    options.setInput(in + "/*.csv");
    options.setOutput(dir.resolve("lake").toString());
    options.setDeadLetter("file:" + dir.resolve("dlq"));
    options.setWatch("PT1S");
    options.setSettleTime("PT1S");
    options.as(org.apache.beam.runners.direct.DirectOptions.class).setBlockOnRun(false);
    Pipeline pipeline = PipelineRun.build(new FilesToLake(), options).pipeline();
    PipelineResult result = pipeline.run();
    try {
      Supplier<List<Long>> ids =
          () ->
              LakeFiles.readAvro(dir.resolve("lake"), Order.class).values().stream()
                  .flatMap(List::stream)
                  .map(Order::getOrderId)
                  .toList();
      Supplier<List<String>> dead =
          () ->
              LakeFiles.readDeadLetters(dir.resolve("dlq")).stream()
                  .map(DeadLetter::getOrigin)
                  .toList();
      // The file there at the start is loaded first; only then does a new one appear.
      assertThat(
          Poll.until(java.time.Duration.ofSeconds(60), () -> ids.get().contains(1L)), is(true));
      Files.writeString(
          in.resolve("b.csv"), HEADER + line(2) + "oops,1\n" + line(3), StandardCharsets.UTF_8);

      Poll.until(
          java.time.Duration.ofSeconds(60), () -> ids.get().size() >= 3 && !dead.get().isEmpty());
      assertThat(ids.get(), containsInAnyOrder(1L, 2L, 3L));
      assertThat(dead.get(), containsInAnyOrder("file:" + in.resolve("b.csv") + "#3"));
      assertThat(result.getState(), is(PipelineResult.State.RUNNING));
    } finally {
      result.cancel();
      result.waitUntilFinish(Duration.standardSeconds(30));
    }
  }

  /**
   * A file still being written (its last line cut, no line break yet) is not read while it is
   * incomplete, however long it stays so: it is read whole once it ends with a line break and has
   * settled, and its last record lands complete, never cut.
   */
  @Test
  void aFileStillBeingWrittenIsReadOnlyOnceComplete() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    FilesToLakeOptions options = PipelineOptionsFactory.as(FilesToLakeOptions.class);
    options.setInput(in + "/*.csv");
    options.setOutput(dir.resolve("lake").toString());
    options.setDeadLetter("file:" + dir.resolve("dlq"));
    options.setWatch("PT1S");
    options.setSettleTime("PT1S");
    options.as(org.apache.beam.runners.direct.DirectOptions.class).setBlockOnRun(false);
    Path growing = in.resolve("growing.csv");
    Files.writeString(
        growing,
        HEADER
            + line(4)
            + "5,1,1.00,EUR,NEW,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,1,partial-no",
        StandardCharsets.UTF_8);
    PipelineResult result = PipelineRun.build(new FilesToLake(), options).pipeline().run();
    try {
      Supplier<List<Order>> orders =
          () ->
              LakeFiles.readAvro(dir.resolve("lake"), Order.class).values().stream()
                  .flatMap(List::stream)
                  .toList();
      // A complete file written after the cut one is loaded: the watch has looked at both.
      Files.writeString(in.resolve("other.csv"), HEADER + line(6), StandardCharsets.UTF_8);
      assertThat(
          Poll.until(
              java.time.Duration.ofSeconds(60),
              () -> orders.get().stream().anyMatch(o -> o.getOrderId() == 6L)),
          is(true));
      assertThat(orders.get().stream().map(Order::getOrderId).toList(), containsInAnyOrder(6L));

      Files.writeString(
          growing, "te\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
      assertThat(
          Poll.until(java.time.Duration.ofSeconds(60), () -> orders.get().size() == 3), is(true));
      Order five =
          orders.get().stream().filter(o -> o.getOrderId() == 5L).findFirst().orElseThrow();
      assertThat(String.valueOf(five.getNote()), is("partial-note"));
    } finally {
      result.cancel();
      result.waitUntilFinish(Duration.standardSeconds(30));
    }
  }
}

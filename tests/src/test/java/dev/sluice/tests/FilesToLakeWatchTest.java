package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.is;

import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.pipelines.filestolake.FilesToLakeOptions;
import dev.sluice.pipelines.run.PipelineRun;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.Order;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.beam.runners.direct.DirectOptions;
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
    options.as(DirectOptions.class).setBlockOnRun(false);
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
    options.as(DirectOptions.class).setBlockOnRun(false);
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

      Files.writeString(growing, "te\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
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

  /** A watching run into Iceberg table lake.orders of {@code warehouse}, started. */
  private PipelineResult watchIntoTable(Path in) {
    FilesToLakeOptions options = PipelineOptionsFactory.as(FilesToLakeOptions.class);
    options.setInput(in + "/*.csv");
    options.setOutput("iceberg:lake.orders");
    options.setWarehouse(dir.resolve("warehouse").toString());
    options.setDeadLetter("file:" + dir.resolve("dlq"));
    options.setWatch("PT1S");
    options.setSettleTime("PT1S");
    options.as(DirectOptions.class).setBlockOnRun(false);
    return PipelineRun.build(new FilesToLake(), options).pipeline().run();
  }

  private IcebergCatalog catalog() {
    return new IcebergCatalog(
        "jdbc:sqlite:" + dir.resolve("warehouse/sluice-catalog.db"),
        dir.resolve("warehouse").toString(),
        null,
        null);
  }

  /** The table's order ids, by Iceberg's generic reader, sorted; empty before the first commit. */
  private List<Long> tableIds() {
    try {
      return catalog()
          .using(
              c -> {
                List<Long> ids = new ArrayList<>();
                try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows =
                    org.apache.iceberg.data.IcebergGenerics.read(
                            c.loadTable(
                                org.apache.iceberg.catalog.TableIdentifier.parse("lake.orders")))
                        .build()) {
                  rows.forEach(r -> ids.add((Long) r.getField("order_id")));
                }
                ids.sort(null);
                return ids;
              });
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The summaries of the snapshots of main's history, oldest first. */
  private List<Map<String, String>> commits() {
    try {
      return catalog()
          .using(
              c -> {
                org.apache.iceberg.Table table =
                    c.loadTable(org.apache.iceberg.catalog.TableIdentifier.parse("lake.orders"));
                List<Map<String, String>> all = new ArrayList<>();
                if (table.currentSnapshot() != null) {
                  org.apache.iceberg.util.SnapshotUtil.ancestorsOf(
                          table.currentSnapshot().snapshotId(), table::snapshot)
                      .forEach(snapshot -> all.add(0, snapshot.summary()));
                }
                return all;
              });
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Watching into an Iceberg table: each window's files land in one commit whose id names the
   * pipeline, table, run and window. A restarted watch reads its inputs again and replaces their
   * rows, never doubling them: at every commit the table holds each key once.
   */
  @Test
  void watchingIntoAnIcebergTableCommitsPerWindowAndARestartReplacesNotDoubles() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(in.resolve("a.csv"), HEADER + line(1), StandardCharsets.UTF_8);
    PipelineResult first = watchIntoTable(in);
    String firstRun;
    try {
      assertThat(
          Poll.until(java.time.Duration.ofSeconds(60), () -> tableIds().contains(1L)), is(true));
      Files.writeString(
          in.resolve("b.csv"), HEADER + line(2) + "oops,1\n" + line(3), StandardCharsets.UTF_8);
      assertThat(
          Poll.until(java.time.Duration.ofSeconds(60), () -> tableIds().size() >= 3), is(true));
      assertThat(tableIds(), is(List.of(1L, 2L, 3L)));
      List<Map<String, String>> commits = commits();
      assertThat("a commit per window: " + commits, commits.size() >= 2, is(true));
      Set<String> ids = new HashSet<>();
      for (Map<String, String> commit : commits) {
        String id = commit.get("sluice.commit-id");
        assertThat(id, org.hamcrest.Matchers.startsWith("files-to-lake/lake.orders/"));
        assertThat(id, org.hamcrest.Matchers.containsString(commit.get("sluice.window")));
        ids.add(id);
      }
      assertThat("each commit its own id", ids.size(), is(commits.size()));
      firstRun = commits.get(0).get("sluice.run");
      Supplier<List<String>> dead =
          () ->
              LakeFiles.readDeadLetters(dir.resolve("dlq")).stream()
                  .map(DeadLetter::getOrigin)
                  .toList();
      Poll.until(java.time.Duration.ofSeconds(60), () -> !dead.get().isEmpty());
      assertThat(dead.get(), containsInAnyOrder("file:" + in.resolve("b.csv") + "#3"));
    } finally {
      first.cancel();
      first.waitUntilFinish(Duration.standardSeconds(30));
    }

    PipelineResult second = watchIntoTable(in);
    try {
      // The restarted watch reads a.csv and b.csv again: once its commits hold their 3 rows, the
      // first run's files of them are replaced.
      Supplier<Long> rewritten =
          () ->
              commits().stream()
                  .filter(c -> !firstRun.equals(c.get("sluice.run")))
                  .mapToLong(c -> Long.parseLong(c.get("sluice.written")))
                  .sum();
      assertThat(
          Poll.until(
              java.time.Duration.ofSeconds(60),
              () -> {
                assertThat("never doubled", tableIds().size() <= 3, is(true));
                return rewritten.get() >= 3;
              }),
          is(true));
      assertThat(tableIds(), is(List.of(1L, 2L, 3L)));
    } finally {
      second.cancel();
      second.waitUntilFinish(Duration.standardSeconds(30));
    }
  }
}

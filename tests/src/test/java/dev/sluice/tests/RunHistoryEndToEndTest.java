package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.sluice.io.files.LakePublisher;
import dev.sluice.pipelines.report.RunHistory;
import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run history: each bounded run recorded, change rules judged against it, and status. */
class RunHistoryEndToEndTest extends LauncherCalls {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;

  /** A day's file: {@code rows} orders of that day, the first {@code nullNotes} without a note. */
  private Path day(int day, int rows, int nullNotes) throws Exception {
    StringBuilder csv = new StringBuilder(HEADER);
    for (int i = 0; i < rows; i++) {
      String at = String.format("2026-11-%02dT09:00:00Z", 20 + day);
      csv.append(day * 100 + i)
          .append(",10,1.00,EUR,NEW,")
          .append(at)
          .append(',')
          .append(at)
          .append(",1,")
          .append(i < nullNotes ? "" : "note")
          .append('\n');
    }
    Path in = Files.createDirectories(dir.resolve("in/day" + day));
    Files.writeString(in.resolve("orders.csv"), csv);
    return in;
  }

  private int load(Path in, Path lake, Path rules) {
    out.reset();
    err.reset();
    return run(
        "files-to-lake",
        "--input=" + in + "/*.csv",
        "--output=" + lake,
        "--deadLetter=file:" + dir.resolve("dlq"),
        "--rules=" + rules);
  }

  @Test
  void aDayWithHalfTheRowsOfTheLastThreeClosesTheGateNamingObservedAndExpected() throws Exception {
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\n"
                + "dataset_rules:\n"
                + "  - {rule: row_count_change, max_drop: 0.4, max_rise: 3.0, over_last: 7}\n"
                + "  - {rule: null_rate_change, field: note, max_increase: 0.1, over_last: 7,"
                + " severity: warn}\n");
    Path lake = dir.resolve("lake");

    // Before three runs of history, the change rules are not judged (and say so).
    assertOk(load(day(1, 10, 1), lake, rules));
    assertThat(
        out.toString(StandardCharsets.UTF_8),
        containsString("run history: " + lake + "/_sluice/history"));
    assertOk(load(day(2, 10, 1), lake, rules));
    assertOk(load(day(3, 10, 1), lake, rules));
    assertThat(
        Files.readString(lake.resolve("_sluice/quality-report.json")),
        containsString("not judged yet: 2 earlier successful run(s) in the history, 3 needed"));
    long published = LakePublisher.dataFiles(lake).size();
    assertThat(published, is(3L));

    // Day 4 has half the rows, and every note missing.
    assertThat(load(day(4, 5, 5), lake, rules), is(Launcher.QUALITY));
    String failure = err.toString(StandardCharsets.UTF_8) + out.toString(StandardCharsets.UTF_8);
    assertThat(
        failure,
        containsString(
            "error rule row_count_change: observed 5 rows (-50.0% against the mean), required"
                + " between 6.0 and 30.0 rows (mean 10.0 of the last 3 run(s), max_drop 0.4000,"
                + " max_rise 3.0)"));
    assertThat(
        failure,
        containsString(
            "warn rule null_rate_change(note): observed 1.0000, required <= 0.2000 (mean 0.1000"
                + " of the last 3 run(s) + max_increase 0.1000)"));
    assertThat((long) LakePublisher.dataFiles(lake).size(), is(published));

    // status shows the four runs, the last with its gate closed.
    out.reset();
    assertOk(run("status", "--runHistory=" + lake + "/_sluice/history"));
    String status = out.toString(StandardCharsets.UTF_8);
    String[] lines = status.strip().split("\n");
    assertThat(status, lines.length, is(5));
    assertThat(lines[1], containsString("files-to-lake"));
    assertThat(lines[1], containsString("open    succeeded"));
    assertThat(
        lines[4],
        containsString(
            "         5           5           0           0  CLOSED  quality_gate_closed"));
    assertThat(lines[4], not(containsString("succeeded")));

    // A closed gate is no baseline: a normal day after it is judged against days 1 to 3 and passes.
    assertOk(load(day(5, 9, 1), lake, rules));
  }

  /**
   * A run whose input never came fails while planning, and is still recorded: result {@code
   * failed_before_run} with the error as its reason, which {@code status} shows.
   */
  @Test
  void aRunThatFailsBeforeItRunsIsRecordedWithItsReason() throws Exception {
    Path history = dir.resolve("history");
    Path missing = dir.resolve("never-came");
    int code =
        run(
            "files-to-lake",
            "--input=" + missing + "/*.csv",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--runHistory=" + history);
    assertThat(code == 0, is(false));
    List<RunHistory.Entry> runs = RunHistory.read(history.toString(), "files-to-lake");
    assertThat(runs.size(), is(1));
    assertThat(runs.get(0).result(), is("failed_before_run"));
    assertThat(runs.get(0).reason(), containsString(missing.toString()));
    assertThat(runs.get(0).baseline(), is(false));
    out.reset();
    assertOk(run("status", "--runHistory=" + history));
    String[] lines = out.toString(StandardCharsets.UTF_8).strip().split("\n");
    assertThat(lines.length, is(2));
    assertThat(lines[1], containsString("failed_before_run"));
    assertThat(lines[1], containsString(missing.toString()));
  }

  @Test
  void aChangeRuleWithoutAHistoryIsRefusedBeforeTheRun() throws Exception {
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: row_count_change, max_drop: 0.4}\n");
    int code =
        run(
            "kafka-to-jdbc",
            "--bootstrapServers=unreachable.invalid:9092",
            "--topic=orders",
            "--jdbcUrl=jdbc:postgresql://unreachable.invalid:5432/x",
            "--table=orders",
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--rules=" + rules);
    assertThat(code, is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "rule row_count_change compares a run with earlier runs: give --runHistory=<dir>"));
  }

  /**
   * A history file that is empty, or an object without the run's fields, fails the run while it is
   * planned, naming the file and the missing field: before any input is read or staged.
   */
  @Test
  void aBrokenHistoryFileFailsThePlanNamingTheFileAndField() throws Exception {
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\ndataset_rules:\n"
                + "  - {rule: row_count_change, max_drop: 0.4, over_last: 7}\n");
    Path lake = dir.resolve("lake-broken");
    Path history = Files.createDirectories(lake.resolve("_sluice/history/files-to-lake"));
    Path empty = Files.writeString(history.resolve("1-empty.json"), "");
    assertThat(load(day(1, 10, 1), lake, rules), is(Launcher.USAGE));
    String printed = err.toString(StandardCharsets.UTF_8);
    assertThat(printed, containsString(empty.getFileName().toString()));
    assertThat(printed, containsString("the file is empty"));
    assertThat(printed, not(containsString("NullPointerException")));

    Files.delete(empty);
    Path object = Files.writeString(history.resolve("2-object.json"), "{}");
    assertThat(load(day(1, 10, 1), lake, rules), is(Launcher.USAGE));
    printed = err.toString(StandardCharsets.UTF_8);
    assertThat(printed, containsString(object.getFileName().toString()));
    assertThat(printed, containsString("field 'pipeline' is missing"));
    // Nothing was read, staged or published.
    assertThat(Files.exists(lake.resolve("_SUCCESS")), is(false));
    try (var staged = Files.list(lake.resolve("_sluice"))) {
      assertThat(
          staged.anyMatch(p -> p.getFileName().toString().startsWith("staging-")), is(false));
    }
  }
}

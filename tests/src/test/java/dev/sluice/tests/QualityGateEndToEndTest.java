package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Dataset rules and the write-audit-publish gate, end to end. */
@ExtendWith(SharedSandbox.class)
class QualityGateEndToEndTest extends LauncherCalls {
  @TempDir Path dir;

  private Map<String, JsonNode> quality(Path report) throws Exception {
    Map<String, JsonNode> rules = new HashMap<>();
    new ObjectMapper()
        .readTree(report.toFile())
        .get("rules")
        .forEach(r -> rules.put(r.get("rule").asText(), r));
    return rules;
  }

  private int export(String table, Path lake, Path rules) {
    return run(
        "jdbc-to-lake",
        "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
        "--jdbcUser=postgres",
        "--table=" + table,
        "--output=" + lake,
        "--exportName=" + lake.getFileName(),
        "--deadLetter=file:" + dir.resolve("dlq"),
        "--rules=" + rules);
  }

  @Test
  void anErrorRuleFailingLeavesTheLakeAndWatermarkUntouchedAndAWarnOnlyFailurePublishes()
      throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS gated");
    SharedSandbox.execute(
        "CREATE TABLE gated (id bigint PRIMARY KEY, note text, updated_at timestamptz NOT NULL)");
    SharedSandbox.execute(
        "INSERT INTO gated VALUES (1, 'a', now()), (2, NULL, now()), (3, NULL, now())");
    Path strict =
        Files.writeString(
            dir.resolve("strict.yaml"),
            "dataset: gated\ndataset_rules:\n  - {rule: row_count, min: 100, severity: error}\n"
                + "  - {rule: null_rate, field: note, max: 0.5, severity: warn}\n");
    Path lake = dir.resolve("gated-lake");

    assertThat(export("gated", lake, strict), is(Launcher.QUALITY));
    String message = err.toString(StandardCharsets.UTF_8);
    assertThat(
        message,
        containsString(
            "Quality gate closed for jdbc-to-lake: 1 error rule(s) failed; nothing was published"));
    assertThat(message, containsString("error rule row_count: observed 3, required >= 100"));
    assertThat(
        message, containsString("warn rule null_rate(note): observed 0.6667, required <= 0.5000"));
    assertThat(LakePublisher.dataFiles(lake).size(), is(0));
    assertThat(Files.exists(lake.resolve("_SUCCESS")), is(false));
    assertThat(
        SharedSandbox.count(
            "SELECT count(*) FROM sluice_export_state WHERE export_name = 'gated-lake'"),
        is(0L));
    Map<String, JsonNode> report = quality(lake.resolve("_sluice/quality-report.json"));
    assertThat(report.get("row_count").get("passed").asBoolean(), is(false));
    assertThat(report.get("row_count").get("observed").asText(), equalTo("3"));
    assertThat(report.get("null_rate(note)").get("failed").asLong(), is(2L));

    Path lenient =
        Files.writeString(
            dir.resolve("lenient.yaml"),
            "dataset: gated\ndataset_rules:\n  - {rule: row_count, min: 1, severity: error}\n"
                + "  - {rule: null_rate, field: note, max: 0.5, severity: warn}\n");
    assertOk(export("gated", lake, lenient));
    assertThat(LakePublisher.dataFiles(lake).size(), is(1));
    assertThat(
        SharedSandbox.count(
            "SELECT count(*) FROM sluice_export_state WHERE export_name = 'gated-lake'"),
        is(1L));
    assertThat(
        quality(lake.resolve("_sluice/quality-report.json"))
            .get("null_rate(note)")
            .get("passed")
            .asBoolean(),
        is(false));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("warn rule null_rate(note)"));
  }

  @Test
  void datasetRulesMeasureKnownInputs() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        in.resolve("orders.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n"
            + "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,a\n"
            + "2,20,2.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "2,20,2.00,GBP,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,2,\n"
            + "3,30,3.00,GBP,NEW,2026-11-24T09:00:00Z,2026-11-25T09:00:00Z,1,c\n"
            + "3,30,3.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-25T09:00:00Z,2,c\n");
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\n"
                + "record_rules:\n"
                + "  - {rule: accepted_values, field: currency, values: [EUR], mostly: 0.5, severity: error}\n"
                + "dataset_rules:\n"
                + "  - {rule: row_count, min: 5, max: 5, severity: warn}\n"
                + "  - {rule: unique, fields: [order_id], severity: warn}\n"
                + "  - {rule: null_rate, field: note, max: 0.4, severity: warn}\n"
                + "  - {rule: freshness, field: updated_at, max_lag: P3650D, severity: warn}\n");
    assertOk(
        run(
            "files-to-lake",
            "--input=" + in + "/*.csv",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--rules=" + rules));
    Map<String, JsonNode> report = quality(dir.resolve("lake/_sluice/quality-report.json"));
    assertThat(
        report.get("accepted_values(currency)").get("observed").asText(),
        equalTo("passing 0.6000"));
    assertThat(report.get("accepted_values(currency)").get("passed").asBoolean(), is(true));
    assertThat(report.get("row_count").get("passed").asBoolean(), is(true));
    assertThat(report.get("unique(order_id)").get("failed").asLong(), is(2L));
    assertThat(
        report.get("unique(order_id)").get("samples").toString(),
        equalTo("[\"order_id=2\",\"order_id=3\"]"));
    assertThat(report.get("null_rate(note)").get("observed").asText(), equalTo("0.4000"));
    assertThat(report.get("null_rate(note)").get("passed").asBoolean(), is(true));
    assertThat(
        report.get("freshness(updated_at)").get("observed").asText(),
        containsString("newest 2026-11-25T09:00:00Z"));
    assertThat(report.get("freshness(updated_at)").get("passed").asBoolean(), is(true));
  }

  @Test
  void filesToLakePublishesNothingWhenItsGateClosesAndTheLakeStaysByteForByte() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    String header =
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";
    Files.writeString(
        in.resolve("orders.csv"),
        header + "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n");
    Path lake = dir.resolve("lake");
    Path rules =
        Files.writeString(
            dir.resolve("rules.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: unique, fields: [order_id], severity: error}\n");
    String[] args = {
      "files-to-lake",
      "--input=" + in + "/*.csv",
      "--output=" + lake,
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--rules=" + rules
    };
    assertOk(run(args));
    Map<Path, byte[]> before = new HashMap<>();
    for (Path file : LakePublisher.dataFiles(lake)) {
      before.put(file, Files.readAllBytes(file));
    }
    assertThat(before.size(), is(1));

    // The same day again, now with a duplicate order: the gate closes and the lake stays as it was.
    Files.writeString(
        in.resolve("orders.csv"),
        header
            + "1,10,9.00,EUR,PAID,2026-11-24T09:00:00Z,2026-11-24T10:00:00Z,2,\n"
            + "1,10,9.00,EUR,PAID,2026-11-24T09:00:00Z,2026-11-24T10:00:00Z,2,\n");
    assertThat(run(args), is(Launcher.QUALITY));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "error rule unique(order_id): observed 1 duplicate(s), required 0 duplicates, e.g. [order_id=1]"));
    Map<Path, byte[]> after = new HashMap<>();
    for (Path file : LakePublisher.dataFiles(lake)) {
      after.put(file, Files.readAllBytes(file));
    }
    assertThat(after.keySet(), equalTo(before.keySet()));
    for (Path file : before.keySet()) {
      assertThat(Arrays.equals(after.get(file), before.get(file)), is(true));
    }
  }

  /** The share of dead letters judges the run: above the bound the gate closes. */
  @Test
  void aDeadLetterRateAboveItsBoundClosesTheGate() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        in.resolve("orders.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n"
            + "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "2,20,2.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "3,30,oops,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "4,40,4.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n");
    Path strict =
        Files.writeString(
            dir.resolve("strict.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: dead_letter_rate, max: 0.2, severity: error}\n");
    Path lenient =
        Files.writeString(
            dir.resolve("lenient.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: dead_letter_rate, max: 0.3, severity: error}\n");
    Path lake = dir.resolve("lake");
    String[] args = {
      "files-to-lake",
      "--input=" + in + "/*.csv",
      "--output=" + lake,
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--rules=" + strict
    };

    assertThat(run(args), is(Launcher.QUALITY));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("error rule dead_letter_rate: observed 0.2500, required <= 0.2000"));
    assertThat(LakePublisher.dataFiles(lake).isEmpty(), is(true));

    args[4] = "--rules=" + lenient;
    assertOk(run(args));
    Map<String, JsonNode> report = quality(lake.resolve("_sluice/quality-report.json"));
    assertThat(report.get("dead_letter_rate").get("observed").asText(), equalTo("0.2500"));
    assertThat(report.get("dead_letter_rate").get("failed").asLong(), is(1L));
    assertThat(LakePublisher.dataFiles(lake).size(), is(1));
  }
}

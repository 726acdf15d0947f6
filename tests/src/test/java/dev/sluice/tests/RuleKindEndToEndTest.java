package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.runners.Launcher;
import dev.sluice.transforms.rules.DatasetRule;
import dev.sluice.transforms.rules.DatasetRuleKind;
import dev.sluice.transforms.rules.Figures;
import dev.sluice.transforms.rules.Measures;
import dev.sluice.transforms.rules.RecordRule;
import dev.sluice.transforms.rules.RuleSpec;
import dev.sluice.transforms.rules.Verdict;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A made-up dataset rule kind, added the way ARCHITECTURE.md's "how to add a rule" says: the one
 * class {@link ShareOf} holds its YAML keys (its {@code Kind}), its counting ({@code measure}) and
 * its judgement ({@code judge}); one line in {@code META-INF/services/
 * dev.sluice.transforms.rules.DatasetRuleKind} registers it. Nothing else in Sluice changes, and
 * files-to-lake checks it at startup, counts it, judges it in its gate and reports it.
 */
class RuleKindEndToEndTest extends LauncherCalls {
  @TempDir Path dir;

  /**
   * {@code share_of}: at least {@code min} of the records have {@code field} equal to {@code
   * value}.
   */
  public record ShareOf(
      String name, RecordRule.Severity severity, String field, String value, double min)
      implements DatasetRule {
    /** Reads {@code {rule: share_of, field: currency, value: EUR, min: 0.5}}. */
    public static final class Kind implements DatasetRuleKind {
      @Override
      public String name() {
        return "share_of";
      }

      @Override
      public Set<String> keys() {
        return Set.of("field", "value", "min");
      }

      @Override
      public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
        String field = spec.field("field");
        return new ShareOf(
            spec.name(field), severity, field, spec.required("value"), spec.fraction("min"));
      }
    }

    private String counter() {
      return "quality.share_of." + name;
    }

    @Override
    public List<String> fields() {
      return List.of(field);
    }

    @Override
    public String kind() {
      return "share_of";
    }

    @Override
    public void measure(GenericRecord record, Measures measures) {
      if (value.equals(String.valueOf(record.get(field)))) {
        measures.count(counter());
      }
    }

    @Override
    public Verdict judge(Figures figures) {
      long rows = figures.rows();
      long matching = figures.counter(counter());
      double share = rows == 0 ? 0 : (double) matching / rows;
      return new Verdict(
          name,
          severity,
          rows,
          rows - matching,
          Verdict.fraction(share),
          ">= " + Verdict.fraction(min),
          share >= min,
          List.of());
    }
  }

  @Test
  void aNewRuleKindInOneClassIsParsedCountedJudgedAndGated() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    String header =
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";
    Files.writeString(
        in.resolve("orders.csv"),
        header
            + "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "2,20,2.00,USD,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "3,30,3.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n"
            + "4,40,4.00,JPY,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,\n");
    Path lake = dir.resolve("lake");
    Path rules = dir.resolve("rules.yaml");
    String[] args = {
      "files-to-lake",
      "--input=" + in + "/*.csv",
      "--output=" + lake,
      "--deadLetter=file:" + dir.resolve("dlq"),
      "--rules=" + rules
    };

    // Checked at startup like the built-in kinds: a key it does not own is refused by name.
    Files.writeString(
        rules,
        "dataset: orders\ndataset_rules:\n  - {rule: share_of, field: currency, value: EUR, max: 1}\n");
    assertThat(run(args), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString(
            "line 3: unknown key 'max' for rule share_of; expected [field, min, value]"));

    // Two of four records are in EUR: a share of 0.5 misses 0.75, and the gate closes.
    Files.writeString(
        rules,
        "dataset: orders\ndataset_rules:\n  - {rule: share_of, field: currency, value: EUR, min: 0.75}\n");
    assertThat(run(args), is(Launcher.QUALITY));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("error rule share_of(currency): observed 0.5000, required >= 0.7500"));
    assertThat(LakePublisher.dataFiles(lake).isEmpty(), is(true));

    Files.writeString(
        rules,
        "dataset: orders\ndataset_rules:\n  - {rule: share_of, field: currency, value: EUR, min: 0.5}\n");
    assertOk(run(args));
    JsonNode report =
        new ObjectMapper().readTree(lake.resolve("_sluice/quality-report.json").toFile());
    JsonNode rule = report.get("rules").get(0);
    assertThat(rule.get("rule").asText(), equalTo("share_of(currency)"));
    assertThat(rule.get("evaluated").asLong(), is(4L));
    assertThat(rule.get("failed").asLong(), is(2L));
    assertThat(rule.get("passed").asBoolean(), is(true));
    assertThat(LakePublisher.dataFiles(lake).size(), is(1));
  }
}

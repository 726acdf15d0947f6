package dev.sluice.pipelines.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.transforms.rules.DatasetRule;
import dev.sluice.transforms.rules.Figures;
import dev.sluice.transforms.rules.RecordRule;
import dev.sluice.transforms.rules.RulesFile;
import dev.sluice.transforms.rules.Verdict;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The data-quality verdict of a bounded run: each dataset rule, and each record rule with {@code
 * mostly}, judged from the run's metrics, with its observed value, threshold, samples and pass or
 * fail. An {@code error} rule that fails closes the write-audit-publish gate.
 */
public final class QualityReport {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final List<Verdict> results;

  private QualityReport(List<Verdict> results) {
    this.results = List.copyOf(results);
  }

  public List<Verdict> results() {
    return results;
  }

  /** The error rules that failed: the gate is closed when there is any. */
  public List<Verdict> failedErrors() {
    return results.stream().filter(Verdict::closesGate).toList();
  }

  public static QualityReport evaluate(
      RulesFile rules, MetricResults metrics, String namespace, Instant now) {
    return evaluate(rules, metrics, namespace, now, null);
  }

  /**
   * Judges the rules after a bounded run; {@code history} holds the pipeline's earlier runs, oldest
   * first, for the change rules (null: they are not judged, e.g. in a replay).
   */
  public static QualityReport evaluate(
      RulesFile rules,
      MetricResults metrics,
      String namespace,
      Instant now,
      @Nullable List<RunHistory.Entry> history) {
    PipelineMetrics m = new PipelineMetrics(metrics, namespace);
    Figures figures =
        new Figures() {
          @Override
          public long counter(String name) {
            return m.counter(name);
          }

          @Override
          public @Nullable Long max(String distribution) {
            return m.max(distribution);
          }

          @Override
          public List<String> samples(String stringSet) {
            return m.strings(stringSet);
          }

          @Override
          public Instant now() {
            return now;
          }

          @Override
          public @Nullable List<RunHistory.Entry> history() {
            return history;
          }
        };
    List<Verdict> results = new ArrayList<>();
    for (RecordRule rule : rules.recordRules()) {
      if (rule.mostly() != null) {
        results.add(rule.judge(figures));
      }
    }
    for (DatasetRule rule : rules.datasetRules()) {
      results.add(rule.judge(figures));
    }
    return new QualityReport(results);
  }

  /** One line per failed rule: name, severity, observed, threshold, samples. */
  public String failures() {
    StringBuilder out = new StringBuilder();
    for (Verdict r : results) {
      if (!r.passed()) {
        out.append("  ")
            .append(r.severityName())
            .append(" rule ")
            .append(r.rule())
            .append(": observed ")
            .append(r.observed())
            .append(", required ")
            .append(r.threshold());
        if (!r.samples().isEmpty()) {
          out.append(", e.g. ").append(r.samples());
        }
        out.append('\n');
      }
    }
    return out.toString();
  }

  public String toJson() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("gate", failedErrors().isEmpty() ? "open" : "closed");
    ArrayNode rules = root.putArray("rules");
    for (Verdict r : results) {
      ObjectNode node = rules.addObject();
      node.put("rule", r.rule());
      node.put("severity", r.severityName());
      node.put("evaluated", r.evaluated());
      node.put("failed", r.failed());
      node.put("observed", r.observed());
      node.put("threshold", r.threshold());
      node.put("passed", r.passed());
      r.samples().forEach(node.putArray("samples")::add);
    }
    return JSON.writeValueAsString(root);
  }

  public void writeJson(String location) throws IOException {
    try (OutputStream out =
        Channels.newOutputStream(
            FileSystems.create(FileSystems.matchNewResource(location, false), MimeTypes.TEXT))) {
      out.write(toJson().getBytes(StandardCharsets.UTF_8));
    }
  }
}

package dev.sluice.pipelines.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.io.lineage.LineageTransport;
import dev.sluice.io.secrets.Redaction;
import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.transforms.rules.Verdict;
import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;

/**
 * Alerts on a failed run (and on a run whose warn rules failed), sent to {@code --alertWebhook} as
 * Alertmanager's API v2 takes them (a JSON array of alerts, each with labels and annotations,
 * POSTed to {@code /api/v2/alerts}), so a real Alertmanager receives them directly and routes them
 * by label. Delivered as lineage events are: from a queue, each exchange bounded and retried, a
 * webhook that is down never failing the run nor hiding its error.
 */
public final class RunAlerts {
  static final String FAILED = "SluiceRunFailed";
  static final String WARNED = "SluiceRuleFailed";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final LineageTransport transport;
  private final String webhook;
  private final String pipeline;
  private final String job;
  private int sent;

  private RunAlerts(LineageTransport transport, String webhook, String pipeline, String job) {
    this.transport = transport;
    this.webhook = webhook;
    this.pipeline = pipeline;
    this.job = job;
  }

  /** The alerts of a run of {@code pipeline}, or null when {@code --alertWebhook} is not given. */
  static @Nullable RunAlerts of(String pipeline, SluiceOptions options) {
    if (options.getAlertWebhook() == null) {
      return null;
    }
    return new RunAlerts(
        LineageTransport.http("alertWebhook", options.getAlertWebhook()).delivering("alert"),
        options.getAlertWebhook(),
        pipeline,
        options.getJobName() == null ? pipeline : options.getJobName());
  }

  /**
   * Sends the alert of a run that failed: {@code reason} is the run's result ({@code failed},
   * {@code failed_before_run}, {@code quality_gate_closed}, {@code accounting_gap}, {@code
   * step_failed}).
   */
  void failed(String reason, @Nullable String message, String runId) {
    send(
        FAILED,
        "critical",
        reason,
        pipeline + " " + reason.replace('_', ' ') + ": " + String.valueOf(message).strip(),
        runId);
  }

  /**
   * Sends the alert of a run whose warn rules failed (an anomaly such as a row count far from the
   * last runs'): the run published, and someone should look. Reason {@code rule_failed}, severity
   * warning, the rules named in its message.
   */
  void warned(List<Verdict> failed, String runId) {
    StringBuilder message = new StringBuilder(pipeline + " published with failed warn rule(s):");
    for (Verdict verdict : failed) {
      message
          .append(' ')
          .append(verdict.rule())
          .append(" (observed ")
          .append(verdict.observed())
          .append(", required ")
          .append(verdict.threshold())
          .append(");");
    }
    send(WARNED, "warning", "rule_failed", message.toString(), runId);
  }

  private void send(String name, String severity, String reason, String message, String runId) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("pipeline", pipeline);
    labels.put("job", job);
    labels.put("reason", reason);
    transport.send(runId, payload(name, severity, labels, message, runId));
    sent++;
  }

  /**
   * One alert as Alertmanager's API v2 takes it (a JSON array of one): labels {@code alertname},
   * the given ones and {@code severity}; annotations {@code message} and {@code run_id}.
   */
  public static String payload(
      String name, String severity, Map<String, String> labels, String message, String runId) {
    ArrayNode alerts = JSON.createArrayNode();
    ObjectNode alert = alerts.addObject();
    ObjectNode l = alert.putObject("labels");
    l.put("alertname", name);
    labels.forEach(l::put);
    l.put("severity", severity);
    ObjectNode annotations = alert.putObject("annotations");
    annotations.put("message", message);
    annotations.put("run_id", runId);
    alert.put("startsAt", Instant.now().toString());
    return alerts.toString();
  }

  /** Waits for the alerts to go and says where they went (and any not delivered). */
  void finish(PrintStream out) {
    if (sent == 0) {
      return;
    }
    transport.finish();
    out.println(
        "  alert: "
            + sent
            + " sent to "
            + Redaction.url(webhook)
            + (transport.missed() == 0
                ? ""
                : " (" + transport.missed() + " NOT delivered: see the log)"));
  }
}

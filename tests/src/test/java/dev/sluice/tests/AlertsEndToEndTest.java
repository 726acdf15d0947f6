package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --alertWebhook}: a failed run sends one alert in Alertmanager's API v2 shape (a JSON array
 * POSTed to {@code /api/v2/alerts}), whether it failed before it ran (its input never came) or on a
 * closed quality gate; a run that succeeds sends none, and a webhook that is down changes nothing
 * in the run's result.
 */
class AlertsEndToEndTest extends LauncherCalls {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";
  private static final String ROW =
      "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,";

  @TempDir Path dir;
  @RegisterExtension final WebhookReceiver alertmanager = new WebhookReceiver();
  private final List<JsonNode> received = alertmanager.received();

  private String webhook() {
    return "--alertWebhook=" + alertmanager.url();
  }

  private Path orders(String name, String... rows) throws Exception {
    Path in = Files.createDirectories(dir.resolve(name));
    Files.writeString(in.resolve("orders.csv"), HEADER + String.join("\n", rows) + "\n");
    return in;
  }

  private int load(Path in, String... more) {
    String[] args = {
      "files-to-lake",
      "--input=" + in + "/*.csv",
      "--output=" + dir.resolve("lake-" + in.getFileName()),
      "--deadLetter=file:" + dir.resolve("dlq-" + in.getFileName())
    };
    String[] all = new String[args.length + more.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return run(all);
  }

  @Test
  void aRunWhoseInputNeverCameAlertsWithItsReason() throws Exception {
    Path missing = dir.resolve("never-came");
    assertThat(load(missing, webhook()) == 0, is(false));
    assertThat(received.size(), is(1));
    JsonNode alerts = received.get(0);
    assertThat(alerts.isArray(), is(true));
    assertThat(alerts.size(), is(1));
    JsonNode labels = alerts.get(0).get("labels");
    assertThat(labels.get("alertname").asText(), equalTo("SluiceRunFailed"));
    assertThat(labels.get("pipeline").asText(), equalTo("files-to-lake"));
    assertThat(labels.get("reason").asText(), equalTo("failed_before_run"));
    assertThat(labels.get("severity").asText(), equalTo("critical"));
    assertThat(labels.get("job").asText(), containsString("files-to-lake"));
    JsonNode annotations = alerts.get(0).get("annotations");
    assertThat(annotations.get("message").asText(), containsString(missing.toString()));
    assertThat(annotations.get("run_id").asText().isEmpty(), is(false));
    assertThat(alerts.get(0).get("startsAt").asText().endsWith("Z"), is(true));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("alert: 1 sent to http://"));
  }

  @Test
  void aClosedQualityGateAlertsAndASucceedingRunDoesNot() throws Exception {
    Path rules =
        Files.writeString(
            dir.resolve("unique.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: unique, fields: [order_id]}\n");
    assertOk(load(orders("good", ROW), webhook(), "--rules=" + rules));
    assertThat(received.size(), is(0));

    assertThat(load(orders("dup", ROW, ROW), webhook(), "--rules=" + rules), is(Launcher.QUALITY));
    assertThat(received.size(), is(1));
    JsonNode alert = received.get(0).get(0);
    assertThat(alert.get("labels").get("reason").asText(), equalTo("quality_gate_closed"));
    assertThat(
        alert.get("annotations").get("message").asText(), containsString("Quality gate closed"));
  }

  /**
   * A run whose warn rule fails publishes and succeeds, and sends one warning alert naming the rule
   * and what it observed.
   */
  @Test
  void aFailedWarnRuleAlertsAsAWarningAndTheRunSucceeds() throws Exception {
    Path rules =
        Files.writeString(
            dir.resolve("warn.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: unique, fields: [order_id], severity:"
                + " warn}\n");
    assertOk(load(orders("dupwarn", ROW, ROW), webhook(), "--rules=" + rules));
    assertThat(received.size(), is(1));
    JsonNode alert = received.get(0).get(0);
    assertThat(alert.get("labels").get("alertname").asText(), equalTo("SluiceRuleFailed"));
    assertThat(alert.get("labels").get("severity").asText(), equalTo("warning"));
    assertThat(alert.get("labels").get("reason").asText(), equalTo("rule_failed"));
    assertThat(
        alert.get("annotations").get("message").asText(),
        containsString("published with failed warn rule(s): unique(order_id) (observed"));
  }

  @Test
  void aWebhookThatIsDownChangesNothingInTheRunsResult() throws Exception {
    alertmanager.close();
    Path missing = dir.resolve("never-came");
    int code = load(missing, webhook());
    assertThat(code == 0, is(false));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("1 NOT delivered"));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString(missing.toString()));
  }
}

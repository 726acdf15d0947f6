package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.runners.Launcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ways adversarial testing found to lose or destroy rows, each closed: a failed run must leave
 * its input to be read again, and a rerun must converge.
 */
@ExtendWith(SharedSandbox.class)
class LossPathsTest extends LauncherCalls {
  @TempDir Path dir;

  private String[] kafkaToJdbc(String topic, String table, String... extra) {
    List<String> args = new ArrayList<>();
    args.add("kafka-to-jdbc");
    args.add("--bootstrapServers=" + SharedSandbox.bootstrapServers());
    args.add("--topic=" + topic);
    args.add("--jdbcUrl=" + SharedSandbox.jdbcUrl());
    args.add("--jdbcUser=postgres");
    args.add("--table=" + table);
    args.add("--deadLetter=file:" + dir.resolve("dlq"));
    args.add("--runReport=" + dir.resolve("report.json"));
    args.add("--bounded");
    args.addAll(Arrays.asList(extra));
    return args.toArray(String[]::new);
  }

  private long counter(String name) throws Exception {
    JsonNode report = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    return report.get("counters").get(name).asLong();
  }

  /**
   * A bounded run with a consumer group that fails after writing some batches must not have moved
   * the group's offsets: the rerun reads every record again and the table ends complete.
   */
  @Test
  void aFailedBoundedRunCommitsNoOffsetsSoTheRerunLoadsEveryRow() throws Exception {
    String topic = SharedSandbox.newTopic("loss-commit", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_loss_commit");
    byte[][] values = new byte[40][];
    for (int i = 0; i < values.length; i++) {
      values[i] = json(i + 1, 1, "1.00", "NEW");
    }
    SharedSandbox.produce(topic, 0, values);
    // The database refuses order 35 with an error that is neither transient nor the row's fault.
    SharedSandbox.execute(
        "CREATE OR REPLACE FUNCTION refuse_35() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + " IF NEW.order_id = 35 THEN RAISE EXCEPTION 'maintenance: writes paused'; END IF;"
            + " RETURN NEW; END $$");
    SharedSandbox.execute(
        "CREATE TRIGGER refuse_35 BEFORE INSERT OR UPDATE ON "
            + table
            + " FOR EACH ROW EXECUTE FUNCTION refuse_35()");

    int failed = run(kafkaToJdbc(topic, table, "--consumerGroup=loss-commit", "--batchSize=5"));
    assertThat(failed, is(Launcher.RUN_FAILED));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("maintenance: writes paused"));
    long landed = SharedSandbox.count("SELECT count(*) FROM " + table);
    assertThat("some batches landed before the failure", landed < 40, is(true));

    SharedSandbox.execute("DROP TRIGGER refuse_35 ON " + table);
    assertOk(run(kafkaToJdbc(topic, table, "--consumerGroup=loss-commit", "--batchSize=5")));
    assertThat(counter("read"), is(40L));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is(40L));

    // Now the offsets stand at the end: a third run has nothing to read.
    assertOk(run(kafkaToJdbc(topic, table, "--consumerGroup=loss-commit")));
    assertThat(counter("read"), is(0L));
    assertThat(
        SharedSandbox.text(
            "SELECT string_agg(DISTINCT version::text, ',') FROM "
                + table
                + " WHERE order_id <= 40"),
        equalTo("1"));
  }
}

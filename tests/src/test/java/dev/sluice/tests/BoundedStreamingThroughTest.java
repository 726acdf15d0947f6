package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded kafka-to-jdbc run streams through: rows reach the table while the read is still going,
 * instead of after it. Shown by the run's own progress lines, which report records read and written
 * as they change: some line reports rows written while fewer records than planned have been read.
 * Flink [local] with one thread makes the order of read and write deterministic.
 */
@ExtendWith(SharedSandbox.class)
class BoundedStreamingThroughTest extends LauncherCalls {
  private static final int ORDERS = 20_000;
  private static final Pattern LINE =
      Pattern.compile(
          "kafka-to-jdbc: read ([0-9,]+) records \\(\\d+% of ([0-9,]+) offsets\\), written ([0-9,]+)");

  @TempDir Path dir;

  @Test
  void rowsAreWrittenBeforeTheReadEnds() throws Exception {
    String topic = SharedSandbox.newTopic("through", 1);
    String table = SharedSandbox.newTableLike("orders", "orders_through");
    List<byte[]> values = new ArrayList<>();
    for (int i = 1; i <= ORDERS; i++) {
      values.add(json(i, 1, "1.00", "NEW"));
    }
    SharedSandbox.produceMany(topic, 0, values);

    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    PrintStream realErr = System.err;
    String every = System.getProperty("sluice.progressMillis");
    System.setErr(new PrintStream(logs, true, StandardCharsets.UTF_8));
    System.setProperty("sluice.progressMillis", "0");
    int code;
    try {
      code =
          run(
              KafkaToJdbcArgs.of(
                  topic,
                  table,
                  "--bounded",
                  "--deadLetter=file:" + dir.resolve("dlq"),
                  "--runReport=" + dir.resolve("report.json"),
                  "--readChunkRecords=5000",
                  "--batchSize=500",
                  "--runner=FlinkRunner",
                  "--flinkMaster=[local]",
                  "--parallelism=1"));
    } finally {
      System.setErr(realErr);
      if (every == null) {
        System.clearProperty("sluice.progressMillis");
      } else {
        System.setProperty("sluice.progressMillis", every);
      }
    }
    assertOk(code);
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + table), is((long) ORDERS));

    List<String> writtenMidRead = new ArrayList<>();
    Matcher m = LINE.matcher(logs.toString(StandardCharsets.UTF_8));
    while (m.find()) {
      long read = Long.parseLong(m.group(1).replace(",", ""));
      long planned = Long.parseLong(m.group(2).replace(",", ""));
      long written = Long.parseLong(m.group(3).replace(",", ""));
      if (written > 0 && read < planned) {
        writtenMidRead.add(m.group());
      }
    }
    assertThat(writtenMidRead, not(empty()));
    assertBalanced(dir.resolve("report.json"));
  }
}

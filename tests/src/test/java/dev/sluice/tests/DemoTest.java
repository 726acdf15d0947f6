package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import dev.sluice.runners.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** README command 1: the demos run on embedded defaults and show what they promise. */
class DemoTest {
  @TempDir Path dir;

  private String demo(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = new String[args.length + 2];
    all[0] = "demo";
    all[1] = "--workDir=" + dir;
    System.arraycopy(args, 0, all, 2, args.length);
    int code =
        new Launcher(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .execute(all);
    assertThat(err.toString(StandardCharsets.UTF_8), code, is(Launcher.OK));
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void kafkaToJdbcDemoShowsSummaryTableAndDeadLetters() {
    String out = demo();
    assertThat(out, containsString("Run summary: kafka-to-jdbc DONE"));
    assertThat(out, containsString("read = written + dead-lettered + filtered"));
    assertThat(
        out,
        containsString(
            "order_id=1  customer_id=501  amount=19.99  currency=EUR  status=SHIPPED  version=3"));
    assertThat(out, containsString("origin=kafka:orders/0@3  step=Upsert  reason=sink"));
    assertThat(out, containsString("reason=parse"));
  }

  @Test
  void filesToLakeDemoShowsSummaryRowsAndDeadLetters() {
    String out = demo("--pipeline=files-to-lake");
    assertThat(out, containsString("Run summary: files-to-lake DONE"));
    assertThat(out, containsString("A few rows of Iceberg table demo.orders"));
    assertThat(out, containsString("Its snapshots:"));
    assertThat(out, org.hamcrest.Matchers.matchesPattern("(?s).*Record\\(1001, .*"));
    assertThat(out, containsString("orders.csv#9 [parse] invalid CSV: unbalanced quotes"));
  }
}

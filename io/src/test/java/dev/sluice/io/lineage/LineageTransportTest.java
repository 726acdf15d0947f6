package dev.sluice.io.lineage;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.io.kafka.KafkaClientProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineageTransportTest {
  @TempDir Path dir;

  /**
   * A run that fails at once sends its two events and finishes straight away: both are delivered
   * every time (the worker keeps its queue, which finish() drops).
   */
  @Test
  void eventsSentJustBeforeFinishAreDelivered() throws Exception {
    for (int run = 0; run < 50; run++) {
      Path out = dir.resolve("run-" + run);
      LineageTransport transport =
          LineageTransport.parse("file:" + out, null, KafkaClientProperties.fromFile(null));
      transport.send("r" + run, "{\"eventType\":\"START\"}");
      transport.send("r" + run, "{\"eventType\":\"FAIL\"}");
      transport.finish();
      assertThat(transport.missed(), is(0));
      assertThat(
          Files.readAllLines(out.resolve("openlineage.jsonl")),
          equalTo(List.of("{\"eventType\":\"START\"}", "{\"eventType\":\"FAIL\"}")));
    }
  }

  @Test
  void anHttpEndpointMustBeAnHttpUrlNamedByItsOption() {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> LineageTransport.http("alertWebhook", "ftp://user:secret@host/alerts"));
    assertThat(refused.getMessage(), containsString("--alertWebhook="));
    assertThat(refused.getMessage(), containsString("is no http(s) URL"));
    assertThat(refused.getMessage().contains("secret"), is(false));
  }
}

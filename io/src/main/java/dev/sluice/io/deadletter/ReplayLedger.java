package dev.sluice.io.deadletter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.RunTag;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the file and Kafka stores share for a replay: a held dead letter's key is a hash of what
 * identifies it (pipeline, step, origin, attempt and payload, as the JDBC store's unique index), so
 * the same dead letter written twice (a rerun of a failed run) is selected once; the replay marks
 * are ledger lines keyed by it.
 */
final class ReplayLedger {
  static final ObjectMapper JSON = new ObjectMapper();

  private ReplayLedger() {}

  /** The key of a dead letter held by a file or Kafka store. */
  static String identity(DeadLetter d) {
    return RunTag.identity(
        utf8(d.getPipeline()),
        utf8(d.getStep()),
        utf8(d.getOrigin()),
        utf8(String.valueOf(d.getAttempt())),
        DeadLetterJson.bytes(d.getPayload()));
  }

  private static byte[] utf8(CharSequence text) {
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Selected by the filter, not in {@code replayed}, each once, oldest first. */
  static List<DeadLetterSink.Held> select(
      Iterable<DeadLetter> all, ReplayFilter filter, Set<String> replayed) {
    Map<String, DeadLetterSink.Held> selected = new HashMap<>();
    for (DeadLetter d : all) {
      if (filter.matches(d)) {
        String key = identity(d);
        if (!replayed.contains(key)) {
          selected.putIfAbsent(key, new DeadLetterSink.Held(key, d));
        }
      }
    }
    List<DeadLetterSink.Held> out = new ArrayList<>(selected.values());
    out.sort(
        Comparator.comparing((DeadLetterSink.Held h) -> h.letter().getFailedAt())
            .thenComparing(h -> h.letter().getOrigin().toString()));
    return out;
  }

  /** One mark: {@code {"dead_letter": key, "replay_run": run, "replayed_at": time}}. */
  static String line(String key, String runId, Instant at) {
    ObjectNode line = JSON.createObjectNode();
    line.put("dead_letter", key);
    line.put("replay_run", runId);
    line.put("replayed_at", at.toString());
    return line.toString();
  }
}

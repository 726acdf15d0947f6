package dev.sluice.runners.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a scenario's CPU went, from the Java Flight Recorder file its JVM wrote: the share of
 * execution samples whose stack holds each method ("total", inclusive) and whose top frame it is
 * ("self"), the heaviest first.
 */
final class Profile {
  private Profile() {}

  /** The {@code top} heaviest methods by inclusive share, with their self share. */
  static Map<String, String> summary(Path jfr, int top) throws IOException {
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> total = new HashMap<>();
    int samples = 0;
    for (RecordedEvent event : RecordingFile.readAllEvents(jfr)) {
      if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
        continue;
      }
      RecordedStackTrace stack = event.getStackTrace();
      if (stack == null || stack.getFrames().isEmpty()) {
        continue;
      }
      samples++;
      List<RecordedFrame> frames = stack.getFrames();
      self.merge(name(frames.get(0)), 1, Integer::sum);
      frames.stream().map(Profile::name).distinct().forEach(m -> total.merge(m, 1, Integer::sum));
    }
    int all = Math.max(samples, 1);
    Map<String, String> summary = new LinkedHashMap<>();
    total.entrySet().stream()
        .filter(e -> !e.getKey().startsWith("java.lang.Thread.run"))
        .sorted((a, b) -> b.getValue() - a.getValue())
        .limit(top)
        .forEach(
            e ->
                summary.put(
                    e.getKey(),
                    String.format(
                        "total %.1f%%, self %.1f%%",
                        100.0 * e.getValue() / all,
                        100.0 * self.getOrDefault(e.getKey(), 0) / all)));
    summary.put("(samples)", String.valueOf(samples));
    return summary;
  }

  private static String name(RecordedFrame frame) {
    return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
  }
}

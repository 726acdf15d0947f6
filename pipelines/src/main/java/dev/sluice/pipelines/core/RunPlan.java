package dev.sluice.pipelines.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a built pipeline tells the run about itself: whether it is bounded, where it writes (for the
 * summary) and where its run report goes.
 *
 * @param bounded whether the run ends by itself (and so gets a summary and an accounting check)
 * @param outputs labelled locations the run writes to, e.g. {@code lake -> /data/lake}
 * @param runReport where the JSON run report is written, or null for none
 */
public record RunPlan(boolean bounded, Map<String, String> outputs, String runReport) {
  public RunPlan {
    outputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
  }
}

package dev.sluice.pipelines.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.pipelines.report.RunSummary;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/** What every lake pipeline's {@code _SUCCESS} manifest says; each pipeline adds its own source. */
public final class LakeManifest {
  private LakeManifest() {}

  /** Pipeline, rows, dead letters, schema fingerprint and schema, publication time. */
  public static Map<String, Object> of(String pipeline, Schema schema, RunSummary summary)
      throws IOException {
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("pipeline", pipeline);
    manifest.put("rows", summary.written());
    manifest.put("dead_lettered", summary.deadLettered());
    manifest.put(
        "schema_fingerprint", Long.toHexString(SchemaNormalization.parsingFingerprint64(schema)));
    manifest.put("schema", new ObjectMapper().readTree(schema.toString()));
    manifest.put("published_at", Instant.now().toString());
    return manifest;
  }
}

package dev.sluice.pipelines.core;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Options every Sluice pipeline has. */
public interface SluiceOptions extends PipelineOptions {
  @Description(
      "Where to write the JSON run report (counters, dead letters by reason, lineage); "
          + "defaults to a location the pipeline chooses next to its output")
  String getRunReport();

  void setRunReport(String value);
}

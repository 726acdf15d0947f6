package dev.sluice.pipelines.options;

import java.util.List;
import org.apache.beam.sdk.options.DefaultValueFactory;
import org.apache.beam.sdk.options.PipelineOptions;

/** The default of {@code --keyFields}: the Order schema's key. */
public final class OrderKey implements DefaultValueFactory<List<String>> {
  @Override
  public List<String> create(PipelineOptions options) {
    return List.of("order_id");
  }
}

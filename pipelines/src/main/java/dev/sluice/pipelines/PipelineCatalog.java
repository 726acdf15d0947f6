package dev.sluice.pipelines;

import dev.sluice.pipelines.cdctojdbc.CdcToJdbc;
import dev.sluice.pipelines.cdctolake.CdcToLake;
import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.pipelines.jdbctolake.JdbcToLake;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatolake.KafkaToLake;
import dev.sluice.pipelines.plan.SluicePipeline;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Every pipeline Sluice ships, by the name users type. */
public final class PipelineCatalog {
  private static final Map<String, SluicePipeline<?, ?>> PIPELINES = new LinkedHashMap<>();

  static {
    add(new FilesToLake());
    add(new KafkaToJdbc());
    add(new CdcToJdbc());
    add(new JdbcToLake());
    add(new KafkaToLake());
    add(new CdcToLake());
  }

  private PipelineCatalog() {}

  private static void add(SluicePipeline<?, ?> pipeline) {
    PIPELINES.put(pipeline.name(), pipeline);
  }

  public static List<SluicePipeline<?, ?>> all() {
    return List.copyOf(PIPELINES.values());
  }

  public static Optional<SluicePipeline<?, ?>> byName(String name) {
    return Optional.ofNullable(PIPELINES.get(name));
  }
}

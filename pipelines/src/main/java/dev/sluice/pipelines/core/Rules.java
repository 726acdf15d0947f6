package dev.sluice.pipelines.core;

import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.rules.ApplyRules;
import dev.sluice.transforms.rules.RulesFile;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/** The rules step of a pipeline: loaded and checked at startup, applied after parsing. */
public final class Rules {
  private final RulesFile file;
  private final Schema schema;
  private final String pipeline;

  private Rules(RulesFile file, Schema schema, String pipeline) {
    this.file = file;
    this.schema = schema;
    this.pipeline = pipeline;
  }

  /** The rules of {@code --rules}, or null without it; an invalid file fails naming its line. */
  public static Rules load(RulesOptions options, Schema schema, String pipeline) {
    if (options.getRules() == null) {
      return null;
    }
    return new Rules(RulesFile.load(Path.of(options.getRules()), schema), schema, pipeline);
  }

  public RulesFile file() {
    return file;
  }

  /** Applies the record rules; records failing an error rule go to the dead letters. */
  public PCollection<KV<SourceRecord, GenericRecord>> apply(
      PCollection<KV<SourceRecord, GenericRecord>> records,
      DeadLetterRouting.Collector deadLetters) {
    Result<KV<SourceRecord, GenericRecord>> checked =
        records.apply("Rules", ApplyRules.of(file, schema, pipeline));
    deadLetters.add(checked.deadLetters());
    return checked.output();
  }
}

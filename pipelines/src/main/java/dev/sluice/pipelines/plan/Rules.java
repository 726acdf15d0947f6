package dev.sluice.pipelines.plan;

import dev.sluice.pipelines.options.Durations;
import dev.sluice.pipelines.options.RulesOptions;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.rules.ApplyRules;
import dev.sluice.transforms.rules.DatasetRule;
import dev.sluice.transforms.rules.ReferenceLookup;
import dev.sluice.transforms.rules.Relationships;
import dev.sluice.transforms.rules.RulesFile;
import java.io.Serializable;
import java.nio.file.Path;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.values.PCollection;

/** The rules step of a pipeline: loaded and checked at startup, applied after parsing. */
public final class Rules implements Serializable {
  private final RulesFile file;
  private final Schema schema;
  private final String pipeline;
  private final ReferenceLookup references;
  private final org.joda.time.Duration window;

  private Rules(
      RulesFile file,
      Schema schema,
      String pipeline,
      ReferenceLookup references,
      org.joda.time.Duration window) {
    this.file = file;
    this.schema = schema;
    this.pipeline = pipeline;
    this.references = references;
    this.window = window;
  }

  /** The rules of {@code --rules}, or null without it; an invalid file fails naming its line. */
  public static Rules load(RulesOptions options, Schema schema, String pipeline) {
    return load(options, schema, pipeline, null);
  }

  /**
   * As {@link #load(RulesOptions, Schema, String)}, with where {@code relationships} rules look
   * values up (null: the pipeline has no database, and such a rule is refused). Each referenced
   * table and column is checked before anything is read.
   */
  public static Rules load(
      RulesOptions options, Schema schema, String pipeline, ReferenceLookup references) {
    if (options.getRules() == null) {
      return null;
    }
    RulesFile file = RulesFile.load(Path.of(options.getRules()), schema);
    for (DatasetRule any : file.datasetRules()) {
      if (!(any instanceof Relationships rule)) {
        continue;
      }
      if (references == null) {
        throw new IllegalArgumentException(
            options.getRules()
                + ": rule "
                + rule.name()
                + " looks values up in a database table, and "
                + pipeline
                + " has no database to look in (relationships works in kafka-to-jdbc and"
                + " jdbc-to-lake, against their --jdbcUrl)");
      }
      try {
        references.verify(rule);
      } catch (Exception e) {
        throw new IllegalArgumentException(options.getRules() + ": " + e.getMessage(), e);
      }
    }
    return new Rules(
        file,
        schema,
        pipeline,
        references,
        Durations.parse("qualityWindow", options.getQualityWindow()));
  }

  public RulesFile file() {
    return file;
  }

  /**
   * Refuses rules that compare a run with earlier runs ({@code row_count_change}, {@code
   * null_rate_change}) when there is no run history to compare with.
   */
  public static void checkHistory(@Nullable RulesFile file, String runHistory) {
    if (file == null || runHistory != null) {
      return;
    }
    for (var rule : file.datasetRules()) {
      if (rule.needsHistory()) {
        throw new IllegalArgumentException(
            "rule "
                + rule.name()
                + " compares a run with earlier runs: give --runHistory=<dir> to keep them");
      }
    }
  }

  /**
   * Whether the rules judge the run as a whole (dataset rules, or record rules with {@code
   * mostly}): then a bounded run stages its output and publishes only through the quality gate.
   */
  public boolean gates() {
    return !file.datasetRules().isEmpty()
        || file.recordRules().stream().anyMatch(r -> r.mostly() != null);
  }

  /**
   * Applies the record rules; records failing an error rule go to the dead letters. Dataset rules
   * are measured for the run's end, or, when {@code streaming}, judged per {@code --qualityWindow}.
   */
  public PCollection<Traced<GenericRecord>> apply(
      PCollection<Traced<GenericRecord>> records,
      DeadLetterRouting.Collector deadLetters,
      boolean streaming) {
    ApplyRules apply =
        references == null
            ? ApplyRules.of(file, schema, pipeline)
            : ApplyRules.of(file, schema, pipeline).withReferences(references);
    Result<Traced<GenericRecord>> checked =
        records.apply("Rules", streaming ? apply.withQualityWindow(window) : apply);
    deadLetters.add(checked.deadLetters());
    return checked.output();
  }
}

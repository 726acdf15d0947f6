package dev.sluice.pipelines.options;

import dev.sluice.transforms.parse.SchemaChanges;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** What a run does with a field the events carry and the contract lacks (a schema change). */
public interface SchemaChangeOptions extends PipelineOptions {
  /**
   * Refuses add_columns where the sink cannot add columns yet (the lake's tables), naming what to
   * do instead.
   */
  static void refuseAddColumns(SchemaChangeOptions options, String pipeline) {
    if (options.getOnSchemaChange() == SchemaChanges.Policy.add_columns) {
      throw new IllegalArgumentException(
          "--onSchemaChange=add_columns is not available in "
              + pipeline
              + " yet: run with dead_letter (the records are kept, and the change reported), add"
              + " the field to the contract as a new optional version (an Iceberg table gains it"
              + " at the next commit), then replay the schema dead letters");
    }
  }

  @Description(
      "A field the events carry and the contract lacks: dead_letter (its records are schema dead"
          + " letters, to replay), fail (the run stops; a bounded one publishes nothing), or"
          + " add_columns (JSON values: the field is added to the table as a nullable column,"
          + " recorded in --schemaChangeLog, and a candidate contract is written). Each change is"
          + " reported once: a log line, the run report's schema_changes, the schema_changed"
          + " counter")
  @Default.Enum("dead_letter")
  @OptionPattern("^(fail|dead_letter|add_columns)$")
  SchemaChanges.Policy getOnSchemaChange();

  void setOnSchemaChange(SchemaChanges.Policy value);

  @Description(
      "The table that records the columns add_columns added (migration V8); the next run of the"
          + " table reads them as part of its contract")
  @Default.String("sluice_schema_changes")
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$")
  String getSchemaChangeLog();

  void setSchemaChangeLog(String value);

  @Description(
      "Where add_columns writes the candidate next version of the contract"
          + " (<dataset>/v<N>.avsc, as in schemas/history), for review and commit; default:"
          + " candidate-schemas next to --runReport, else in the working directory")
  String getCandidateSchemas();

  void setCandidateSchemas(String value);
}

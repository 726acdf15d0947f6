package dev.sluice.pipelines.options;

import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.SchemaChanges;
import javax.annotation.Nullable;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** What a run does with a field the events carry and the contract lacks (a schema change). */
public interface SchemaChangeOptions extends PipelineOptions {
  /**
   * Checks what add_columns needs of a run: JSON values ({@code format}), and no transform ({@code
   * transformed}), whose output rather than the events gives the table its columns.
   */
  static void checkAddColumns(InputFormat format, boolean transformed) {
    if (format != InputFormat.JSONL && format != InputFormat.DEBEZIUM) {
      throw new IllegalArgumentException(
          "--onSchemaChange=add_columns needs JSON values (--format=json): "
              + (format == InputFormat.CSV
                  ? "a CSV file's header is checked against the contract when the file is opened"
                  : "an Avro value is read through a released version of the contract")
              + ", so the fields it lacks never reach the run");
    }
    if (transformed) {
      throw new IllegalArgumentException(
          "--onSchemaChange=add_columns cannot be combined with --sql or --transform: the"
              + " transform's output, not the events, gives the table its columns");
    }
  }

  /**
   * Checks add_columns in a lake pipeline, as {@link #checkAddColumns}: it adds columns to an
   * Iceberg table ({@code output}), not to a directory lake.
   */
  static void checkLakeAddColumns(
      SchemaChangeOptions options, String output, InputFormat format, boolean transformed) {
    if (options.getOnSchemaChange() != SchemaChanges.Policy.add_columns) {
      return;
    }
    if (!output.startsWith("iceberg:")) {
      throw new IllegalArgumentException(
          "--onSchemaChange=add_columns adds columns to an Iceberg table"
              + " (--output=iceberg:<namespace>.<table>), but --output="
              + output
              + " is a directory lake, whose files keep the contract's fields: run with"
              + " dead_letter (the records are kept, and the change reported), add the field to the"
              + " contract as a new optional version, then replay the schema dead letters");
    }
    checkAddColumns(format, transformed);
  }

  /**
   * Where add_columns writes candidate contracts: {@code --candidateSchemas}, else {@code
   * candidate-schemas} next to the run report {@code report}, else in the working directory.
   */
  static String candidateDirectory(SchemaChangeOptions options, @Nullable String report) {
    if (options.getCandidateSchemas() != null) {
      return options.getCandidateSchemas();
    }
    return report != null && report.contains("/")
        ? report.replaceFirst("[^/]*$", "candidate-schemas")
        : "candidate-schemas";
  }

  @Description(
      "A field the events carry and the contract lacks: dead_letter (its records are schema dead"
          + " letters, to replay), fail (the run stops; a bounded one publishes nothing), or"
          + " add_columns (JSON values: the field is added to the table as a nullable column,"
          + " recorded in --schemaChangeLog, or in an Iceberg table's properties, and a candidate"
          + " contract is written). Each change is"
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

package dev.sluice.pipelines.options;

import java.util.List;
import org.apache.beam.sdk.options.Description;

/** The transform step between the rules and the sink: SQL or mapping steps, and lookups. */
public interface TransformOptions extends SluiceOptions {
  @Description(
      "SQL (Beam SQL, Calcite dialect, `backtick` quoting) over the parsed records as table"
          + " input, between the rules and the sink, e.g. SELECT order_id, UPPER(currency) AS"
          + " currency FROM input WHERE status <> 'CANCELLED'; the sink receives its rows"
          + " (docs/transform.md)")
  String getSql();

  void setSql(String value);

  @Description(
      "YAML file of named transform steps, each sql: or a mapping (rename, cast, drop, derive,"
          + " filter), instead of --sql (docs/transform.md)")
  String getTransform();

  void setTransform(String value);

  @Description(
      "The contract of the transform's rows, a schema of schemas/ (e.g. OrderAmount): required"
          + " into a lake table, whose columns it gives; kafka-to-jdbc checks its rows against it"
          + " when given")
  String getOutputSchema();

  void setOutputSchema(String value);

  @Description(
      "A version of --outputSchema's contract in a file (a released one, or the next, checked for"
          + " compatibility like --schemaFile)")
  String getOutputSchemaFile();

  void setOutputSchemaFile(String value);

  @Description(
      "Reference table the transform's SQL may join: <name>=jdbc:<table> of the pipeline's"
          + " database, read once per run (see --lookupRefresh); comma-separated for several")
  List<String> getLookup();

  void setLookup(List<String> value);

  @Description(
      "Read the --lookup tables again every interval (ISO-8601, e.g. PT5M), so that a streaming"
          + " run joins a reference table's new rows without a restart: each worker keeps a copy"
          + " of the table, read by key as the SQL joins it (JOIN or LEFT JOIN … ON equal"
          + " columns), and reads it again once the copy is older than this; a failed read keeps"
          + " the copy. Unset: each lookup is read once per run")
  String getLookupRefresh();

  void setLookupRefresh(String value);

  @Description(
      "Windowed aggregates: how long after a window's end late events still update it (ISO-8601,"
          + " e.g. PT10M); later events are dead letters with reason late. Unset: none")
  String getAllowedLateness();

  void setAllowedLateness(String value);
}

package dev.sluice.pipelines.jdbctolake;

import dev.sluice.pipelines.options.DeadLetterOptions;
import dev.sluice.pipelines.options.IcebergOptions;
import dev.sluice.pipelines.options.JdbcOptions;
import dev.sluice.pipelines.options.LakeFileOptions;
import dev.sluice.pipelines.options.OptionPattern;
import dev.sluice.pipelines.options.RulesOptions;
import dev.sluice.pipelines.options.TransformOptions;
import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code jdbc-to-lake}. */
public interface JdbcToLakeOptions
    extends JdbcOptions,
        DeadLetterOptions,
        RulesOptions,
        LakeFileOptions,
        IcebergOptions,
        TransformOptions {
  @Description("Source table, table or schema.table (or give --query)")
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$")
  String getTable();

  void setTable(String value);

  @Description("Source query instead of --table, e.g. SELECT id, amount::numeric(12,2) FROM t")
  String getQuery();

  void setQuery(String value);

  @Description(
      "Numeric or timestamp column the parallel reads split into --numPartitions ranges (plus one"
          + " for its NULLs); unset: one read")
  String getPartitionColumn();

  void setPartitionColumn(String value);

  @Description("Parallel reads over --partitionColumn")
  @Default.Integer(4)
  Integer getNumPartitions();

  void setNumPartitions(Integer value);

  @Description(
      "Column whose values only grow when a row changes: a run exports the rows above the last"
          + " committed high-watermark and at or below its maximum at the start of the run")
  @Default.String("updated_at")
  String getWatermarkColumn();

  void setWatermarkColumn(String value);

  @Description(
      "Directory of the lake (Avro files under <output>/dt=<yyyy-MM-dd>/, and _SUCCESS), or an"
          + " Iceberg table, iceberg:<namespace>.<table>, merged by --keyFields")
  @Validation.Required
  String getOutput();

  void setOutput(String value);

  // No @Default: Beam options are global by name (kafka-to-lake appends when it is unset).
  @Description(
      "With --output=iceberg:...: merge by these comma-separated key columns, each changed row"
          + " replacing the table's row of its key; default: the source table's primary key"
          + " (a --query without it is appended)")
  List<String> getKeyFields();

  void setKeyFields(List<String> value);

  @Description(
      "With --output=iceberg:...: a boolean column marking soft-deleted rows: an incremental"
          + " export removes their keys' rows from the table, a full one leaves them out")
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*$")
  String getDeletedColumn();

  void setDeletedColumn(String value);

  // No @Default: Beam options are global by name, and files-to-lake's defaults to created_at.
  @Description(
      "Timestamp or date column whose UTC date partitions the files; default: --watermarkColumn")
  String getPartitionField();

  void setPartitionField(String value);

  @Description("Export everything again and replace the lake's files (otherwise: incremental)")
  @Default.Boolean(false)
  Boolean getFullRefresh();

  void setFullRefresh(Boolean value);

  @Description("Name of this export in the state table; default: the table name, or 'query'")
  String getExportName();

  void setExportName(String value);

  @Description("Table holding the committed high-watermarks (made by migration V5)")
  @Default.String("sluice_export_state")
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$")
  String getStateTable();

  void setStateTable(String value);
}

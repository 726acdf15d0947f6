package dev.sluice.pipelines.kafkatojdbc;

import dev.sluice.pipelines.options.DeadLetterOptions;
import dev.sluice.pipelines.options.HistoryOptions;
import dev.sluice.pipelines.options.JdbcOptions;
import dev.sluice.pipelines.options.KafkaSourceOptions;
import dev.sluice.pipelines.options.OptionPattern;
import dev.sluice.pipelines.options.RulesOptions;
import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.options.SchemaOptions;
import dev.sluice.pipelines.options.TransformOptions;
import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/**
 * What kafka-to-jdbc and cdc-to-jdbc share: the topic read, the table written (its schema, key and
 * batches), dead letters and rules.
 */
public interface KafkaTableOptions
    extends KafkaSourceOptions,
        JdbcOptions,
        DeadLetterOptions,
        RulesOptions,
        SchemaOptions,
        SchemaChangeOptions,
        HistoryOptions,
        TransformOptions {
  @Description("Target table, table or schema.table; it must exist and fit the schema")
  @Validation.Required
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$")
  String getTable();

  void setTable(String value);

  // No @Default: Beam options are global by name, and kafka-to-lake's appends when it is unset.
  @Description(
      "Comma-separated key fields: the table's primary key or a unique key; default: the table's"
          + " primary key")
  List<String> getKeyFields();

  void setKeyFields(List<String> value);

  @Description(
      "Timestamp field that gives event time; unset: the Kafka record timestamp is the event time")
  String getEventTimeField();

  void setEventTimeField(String value);

  @Description(
      "How each batch reaches PostgreSQL: copy (COPY into a temporary table, then one merging"
          + " INSERT ... ON CONFLICT) or insert (batched prepared upserts); the same rows either way")
  @Default.Enum("copy")
  @OptionPattern("^(copy|insert)$")
  WriteMethod getWriteMethod();

  void setWriteMethod(WriteMethod value);

  @Description(
      "Bounded: offsets per read chunk; a partition's planned range is cut into chunks read in"
          + " parallel, each flowing on to the sink as it is read")
  @Default.Long(50_000)
  Long getReadChunkRecords();

  void setReadChunkRecords(Long value);

  @Description("Rows per upsert batch (one transaction each)")
  @Default.Integer(1000)
  Integer getBatchSize();

  void setBatchSize(Integer value);

  @Description("Retries of a batch after a transient database error, with exponential backoff")
  @Default.Integer(5)
  Integer getMaxRetries();

  void setMaxRetries(Integer value);
}

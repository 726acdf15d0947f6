package dev.sluice.pipelines.cdctojdbc;

import dev.sluice.pipelines.kafkatojdbc.KafkaTableOptions;
import dev.sluice.pipelines.options.ChangeEventOptions;
import dev.sluice.pipelines.options.OptionPattern;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code cdc-to-jdbc}: the topic and table options it shares with kafka-to-jdbc (it is
 * built from the same transforms), and how its Debezium change events are ordered and applied.
 * kafka-to-jdbc's value encoding and version field do not apply, and are not options here.
 */
public interface CdcToJdbcOptions extends KafkaTableOptions, ChangeEventOptions {
  @Description(
      "soft: a delete marks the row _cdc_deleted and keeps it; hard (bounded runs): the rows a"
          + " run marked deleted are moved into --deletedKeysTable (key and position) once it"
          + " succeeded, and no older write of a key there is applied again")
  @Default.String("soft")
  @OptionPattern("^(soft|hard)$")
  String getDeleteMode();

  void setDeleteMode(String value);

  @Description(
      "Hard deletes: the table of deleted keys (the key columns as primary key, _cdc_position"
          + " bigint); default <table>_deleted_keys")
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$")
  String getDeletedKeysTable();

  void setDeletedKeysTable(String value);
}

package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How Debezium change events are ordered and decoded: cdc-to-jdbc's and cdc-to-lake's. */
public interface ChangeEventOptions extends PipelineOptions {
  @Description(
      "Where each change event's source position is, a dotted path into the event: a row is"
          + " only changed by an event of a newer position (PostgreSQL: source.lsn)")
  @Default.String("source.lsn")
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$")
  String getPositionField();

  void setPositionField(String value);

  @Description(
      "How decimals come in events without the JSON converter's schema, as Debezium's"
          + " decimal.handling.mode: precise (base64 bytes of the unscaled value, the scale from"
          + " --schema) or string; events with the schema say it themselves")
  @Default.String("precise")
  @OptionPattern("^(precise|string)$")
  String getDecimalHandling();

  void setDecimalHandling(String value);
}

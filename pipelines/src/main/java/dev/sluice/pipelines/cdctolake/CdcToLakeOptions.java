package dev.sluice.pipelines.cdctolake;

import dev.sluice.pipelines.kafkatolake.LakeEventsOptions;
import dev.sluice.pipelines.options.OptionPattern;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code cdc-to-lake}: the topic and table options it shares with kafka-to-lake, and how
 * its Debezium change events are ordered and decoded (as cdc-to-jdbc's).
 */
public interface CdcToLakeOptions extends LakeEventsOptions {
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

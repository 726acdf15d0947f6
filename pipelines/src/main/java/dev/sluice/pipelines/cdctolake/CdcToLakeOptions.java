package dev.sluice.pipelines.cdctolake;

import dev.sluice.pipelines.kafkatolake.LakeEventsOptions;
import dev.sluice.pipelines.options.ChangeEventOptions;

/**
 * Options of {@code cdc-to-lake}: the topic and table options it shares with kafka-to-lake, and how
 * its Debezium change events are ordered and decoded (as cdc-to-jdbc's).
 */
public interface CdcToLakeOptions extends LakeEventsOptions, ChangeEventOptions {}

package dev.sluice.pipelines.cdctolake;

import dev.sluice.pipelines.kafkatolake.LakeEventsOptions;
import dev.sluice.pipelines.options.ChangeEventOptions;
import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.options.TransformOptions;

/**
 * Options of {@code cdc-to-lake}: the topic and table options it shares with kafka-to-lake, how its
 * Debezium change events are ordered and decoded (as cdc-to-jdbc's), and a transform that selects
 * columns of the replica (a projection only), and what a column the replica lacks does.
 */
public interface CdcToLakeOptions
    extends LakeEventsOptions, ChangeEventOptions, TransformOptions, SchemaChangeOptions {}

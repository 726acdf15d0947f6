package dev.sluice.pipelines.cdctojdbc;

import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.metrics.ConsumerLag;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.plan.Replay;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.transforms.parse.ChangeEvents;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.Pipeline;

/**
 * cdc-to-jdbc: Debezium change events from a Kafka topic applied to a PostgreSQL replica table,
 * deletes included. It is kafka-to-jdbc's graph (read, parse, rules, dead letters, accounting,
 * bounded or streaming) with the parse step reading change events ({@link ChangeEvents}) and the
 * guarded upsert ordered by the events' source position: a row changes only for an event of a newer
 * position, and a delete marks the row deleted at its position (a soft delete), so a replayed older
 * insert or update never brings it back. Any order and any number of replays of the same events
 * converge to the source table.
 */
public final class CdcToJdbc implements SluicePipeline<CdcToJdbcOptions, KafkaToJdbc.Plan> {
  public static final String NAME = "cdc-to-jdbc";
  private final KafkaToJdbc base = new KafkaToJdbc();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Debezium change events into a PostgreSQL replica table, deletes included, by position";
  }

  @Override
  public String lineage() {
    return "Applies the Debezium change events of Kafka topic --topic (JSON, with or without the"
        + " schema wrapper) to replica table --table: inserts, snapshot reads and updates upsert the"
        + " row from after, deletes mark it _cdc_deleted from before, each only when its position"
        + " (--positionField) is newer than the row's _cdc_position; tombstones are counted as"
        + " filtered; events that do not parse or fit schema --schema go to --deadLetter.";
  }

  @Override
  public Class<CdcToJdbcOptions> optionsClass() {
    return CdcToJdbcOptions.class;
  }

  @Override
  public KafkaToJdbc.Plan plan(CdcToJdbcOptions options) {
    return KafkaToJdbc.planChanges(options, new KafkaToJdbc.Source.Topic(), NAME, parse(options));
  }

  @Override
  public KafkaToJdbc.Plan planReplay(CdcToJdbcOptions options, Replay replay) {
    return KafkaToJdbc.planChanges(
        options, new KafkaToJdbc.Source.Replayed(replay), NAME, parse(options));
  }

  /** Debezium change events, their deletes soft or hard (into their deleted-keys table). */
  private static KafkaToJdbc.Parse parse(CdcToJdbcOptions options) {
    KafkaToJdbc.Deletes deletes =
        options.getDeleteMode().equals("soft")
            ? new KafkaToJdbc.Deletes.Soft()
            : new KafkaToJdbc.Deletes.Hard(
                options.getDeletedKeysTable() != null
                    ? options.getDeletedKeysTable()
                    : options.getTable() + "_deleted_keys");
    return new KafkaToJdbc.Parse.Changes(
        ChangeEvents.of(options.getPositionField(), options.getDecimalHandling().equals("precise")),
        deletes,
        options.getOnSchemaChange());
  }

  @Override
  public void build(Pipeline pipeline, KafkaToJdbc.Plan plan) {
    base.build(pipeline, plan);
  }

  @Override
  public Optional<String> needsLauncher(CdcToJdbcOptions options) {
    return KafkaToJdbc.launcherFor(options);
  }

  @Override
  public Optional<ConsumerLag> consumerLag(KafkaToJdbc.Plan plan) {
    return base.consumerLag(plan);
  }

  @Override
  public List<LineageDataset> lineageInputs(KafkaToJdbc.Plan plan) {
    return base.lineageInputs(plan);
  }

  @Override
  public List<LineageDataset> lineageOutputs(KafkaToJdbc.Plan plan) {
    return base.lineageOutputs(plan);
  }
}

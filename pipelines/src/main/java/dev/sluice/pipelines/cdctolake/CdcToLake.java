package dev.sluice.pipelines.cdctolake;

import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.metrics.ConsumerLag;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatolake.KafkaToLake;
import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.plan.Lakehouse;
import dev.sluice.pipelines.plan.Replay;
import dev.sluice.pipelines.plan.SchemaChoice;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.transforms.parse.ChangeEvents;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.SchemaChanges;
import java.util.List;
import java.util.Optional;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.beam.sdk.Pipeline;

/**
 * cdc-to-lake: Debezium change events from a Kafka topic applied to a keyed Iceberg table, deletes
 * included. It is kafka-to-lake's graph (read, parse, rules, dead letters, accounting, bounded or
 * streaming, offsets in the table's commits) with cdc-to-jdbc's parse step, merged by key with the
 * events' source position as the version: a row changes only for an event of a newer position, and
 * a delete replaces the row with its tombstone ({@code _cdc_deleted} true, at its position), so a
 * replayed older insert or update never brings it back, across runs. Any order and any number of
 * replays of the same events converge to the source table.
 */
public final class CdcToLake implements SluicePipeline<CdcToLakeOptions, KafkaToLake.Plan> {
  public static final String NAME = "cdc-to-lake";
  private final KafkaToLake base = new KafkaToLake();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Debezium change events into a keyed Iceberg table, deletes included, by position";
  }

  @Override
  public String lineage() {
    return "Applies the Debezium change events of Kafka topic --topic (JSON, with or without the"
        + " schema wrapper) to the Iceberg table --output, merged by --keyFields: inserts, snapshot"
        + " reads and updates replace the row with the one from after, deletes with a tombstone"
        + " (_cdc_deleted) from before, each only when its position (--positionField) is newer than"
        + " the row's _cdc_position; events that do not parse or fit schema --schema go to"
        + " --deadLetter.";
  }

  @Override
  public Class<CdcToLakeOptions> optionsClass() {
    return CdcToLakeOptions.class;
  }

  @Override
  public KafkaToLake.Plan plan(CdcToLakeOptions options) {
    return plan(options, null);
  }

  @Override
  public KafkaToLake.Plan planReplay(CdcToLakeOptions options, Replay replay) {
    return plan(options, replay);
  }

  private static KafkaToLake.Plan plan(CdcToLakeOptions options, @Nullable Replay replay) {
    if (options.getKeyFields() == null || options.getKeyFields().isEmpty()) {
      throw new IllegalArgumentException(
          "cdc-to-lake needs --keyFields, the source table's primary key: the table is merged by"
              + " it");
    }
    SchemaChangeOptions.checkLakeAddColumns(
        options,
        options.getOutput(),
        InputFormat.DEBEZIUM,
        options.getSql() != null || options.getTransform() != null);
    Schema contract = SchemaChoice.of(options.getSchema(), options.getSchemaFile());
    boolean addColumns = options.getOnSchemaChange() == SchemaChanges.Policy.add_columns;
    return KafkaToLake.planEvents(
        options,
        replay,
        new KafkaToJdbc.Parse.Changes(
            ChangeEvents.of(
                options.getPositionField(), options.getDecimalHandling().equals("precise")),
            new KafkaToJdbc.Deletes.Soft(),
            options.getOnSchemaChange()),
        InputFormat.DEBEZIUM,
        // The columns earlier add_columns runs added to the replica are part of its contract now.
        ChangeEvents.replicaSchema(
            addColumns
                ? SchemaChanges.withColumns(
                    contract, Lakehouse.addedColumns(options.getOutput(), options))
                : contract),
        ChangeEvents.POSITION,
        options,
        NAME,
        addColumns ? contract : null,
        options);
  }

  @Override
  public void build(Pipeline pipeline, KafkaToLake.Plan plan) {
    base.build(pipeline, plan);
  }

  @Override
  public Optional<String> needsLauncher(CdcToLakeOptions options) {
    return options.getBounded()
        ? Optional.of(
            "a bounded cdc-to-lake run plans the offsets it reads when it starts, and commits its"
                + " table and then its offsets after it succeeded: only a launcher can do that."
                + " Leave out --bounded for a streaming template")
        : Optional.empty();
  }

  @Override
  public Optional<ConsumerLag> consumerLag(KafkaToLake.Plan plan) {
    return base.consumerLag(plan);
  }

  @Override
  public List<LineageDataset> lineageInputs(KafkaToLake.Plan plan) {
    return base.lineageInputs(plan);
  }

  @Override
  public List<LineageDataset> lineageOutputs(KafkaToLake.Plan plan) {
    return base.lineageOutputs(plan);
  }
}

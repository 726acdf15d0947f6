package dev.sluice.pipelines.kafkatojdbc;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.jdbc.HistorySql;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcReferenceLookup;
import dev.sluice.io.jdbc.JdbcUpsert;
import dev.sluice.io.jdbc.SchemaChangeLog;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.io.jdbc.StagingTable;
import dev.sluice.io.jdbc.TableCheck;
import dev.sluice.io.jdbc.UpsertSql;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.kafka.KafkaOffsets;
import dev.sluice.io.kafka.KafkaSource;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.metrics.ConsumerLag;
import dev.sluice.pipelines.options.HistoryOptions;
import dev.sluice.pipelines.options.KafkaSourceOptions;
import dev.sluice.pipelines.options.RecordFormat;
import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.plan.DeadLetterSinks;
import dev.sluice.pipelines.plan.PersonalData;
import dev.sluice.pipelines.plan.Replay;
import dev.sluice.pipelines.plan.Rules;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.pipelines.plan.SchemaChoice;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.plan.Steps;
import dev.sluice.pipelines.plan.Transform;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.PiiPolicy;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.parse.ChangeEvents;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.ParseRecords;
import dev.sluice.transforms.parse.SchemaChanges;
import dev.sluice.transforms.pii.Pii;
import dev.sluice.transforms.pii.PiiKeysSource;
import dev.sluice.transforms.time.EventTimeFromField;
import java.io.IOException;
import java.io.Serializable;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;

/**
 * kafka-to-jdbc: loads events from a Kafka topic, parses them against a schema, dead-letters what
 * does not parse, keeps the newest version per key, and upserts into a table guarded by the version
 * so that any order of the same events converges to the same table. Bounded or streaming with the
 * same transforms.
 */
public final class KafkaToJdbc implements SluicePipeline<KafkaToJdbcOptions, KafkaToJdbc.Plan> {
  public static final String NAME = "kafka-to-jdbc";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Kafka events into a PostgreSQL table: idempotent versioned upsert, streaming or bounded";
  }

  @Override
  public String lineage() {
    return "Loads events from Kafka topic --topic, parses each value (--format) against schema"
        + " --schema, dead-letters what does not parse, fit or pass the --rules to --deadLetter,"
        + " keeps the newest"
        + " version (--versionField) per key (--keyFields) within each write batch, and upserts into"
        + " --table, never replacing a row with an older version.";
  }

  @Override
  public Class<KafkaToJdbcOptions> optionsClass() {
    return KafkaToJdbcOptions.class;
  }

  /**
   * What a kafka-to-jdbc run does, decided before it starts: plain values, from which {@link
   * #build} makes the transforms.
   *
   * @param run the run's own part: bounded or not, outputs, quality rules, and its steps (create,
   *     merge and drop the staging table; commit the planned offsets)
   * @param schema the schema values are parsed into
   * @param writerSchemaVersion the version plain Avro values were written with, or null
   * @param format how values are encoded
   * @param kafka where the events are: brokers, topic, consumer group, client settings
   * @param read what the run reads: the topic as a stream, the planned offsets of a bounded run, or
   *     the dead letters of a replay
   * @param database the target's database
   * @param upsert the versioned upsert into the target table
   * @param target the table itself, or the staging table a gated bounded run writes to
   * @param write batch size, retries and method of the writes
   * @param rules the checked rules, or null
   * @param eventTimeField the field that gives event time, or null
   * @param deadLetters the checked dead-letter sink, named after the run's input
   * @param runId the run's id, for progress lines
   * @param pipeline the pipeline's name (kafka-to-jdbc or cdc-to-jdbc)
   * @param transform the transform step between the rules and the sink, or null
   * @param addColumns where the columns of new fields are recorded ({@code
   *     --onSchemaChange=add_columns}), or null
   * @param history the SCD2 history the run keeps ({@code --history=scd2}; {@link #upsert} then
   *     writes its ledger), or null
   * @param piiKeys the keys of the contract's personal-data policies, or null when it has none
   */
  public record Plan(
      RunPlan run,
      Schema schema,
      Parse parse,
      InputFormat format,
      KafkaTopic kafka,
      Read read,
      JdbcConnection database,
      UpsertSql upsert,
      Target target,
      WriteSettings write,
      @Nullable Rules rules,
      @Nullable String eventTimeField,
      DeadLetterSink deadLetters,
      String runId,
      String pipeline,
      @Nullable Transform transform,
      @Nullable SchemaChangeLog addColumns,
      @Nullable HistorySql history,
      @Nullable PiiKeysSource piiKeys)
      implements SluicePipeline.Plan {
    /** The schema of the rows the table receives: the transform's output, or the records'. */
    public Schema sinkSchema() {
      return transform == null ? PiiPolicy.published(schema) : transform.output();
    }

    @Override
    public Map<String, String> personalData() {
      return PersonalData.applied(schema);
    }

    /** The replay whose dead letters the run reads, or null when it reads the topic. */
    public @Nullable Replay replay() {
      return read instanceof Read.Replayed replayed ? replayed.replay() : null;
    }
  }

  /** What a planned run reads. */
  public sealed interface Read extends Serializable {
    /** The topic, as a stream, from the consumer group's offsets. */
    record Stream() implements Read {}

    /**
     * The offsets a bounded run planned when it started, read in chunks of {@code chunkRecords}.
     */
    record Bounded(KafkaOffsets offsets, long chunkRecords) implements Read {}

    /** The dead letters a replay selected (the topic is not read, no offsets are committed). */
    record Replayed(Replay replay) implements Read {}
  }

  /** Where the rows are written. */
  public sealed interface Target extends Serializable {
    /** Into the table itself. */
    record Table() implements Target {}

    /** Into a staging copy, merged into the table once the quality gate is open. */
    record Staged(StagingTable stage) implements Target {}
  }

  /** Where a run's events are. */
  public record KafkaTopic(
      String bootstrapServers,
      String topic,
      @Nullable String consumerGroup,
      KafkaClientProperties properties)
      implements Serializable {
    /** The read of this topic that {@code read} plans (the stream, or its planned offsets). */
    public KafkaSource source(Read read, String runId, String pipeline) {
      KafkaSource source =
          KafkaSource.of(bootstrapServers, topic, pipeline)
              .withConsumerGroup(consumerGroup)
              .withProperties(properties)
              .withProgressOf(runId);
      return read instanceof Read.Bounded bounded
          ? source.withChunkRecords(bounded.chunkRecords()).withOffsets(bounded.offsets())
          : source;
    }

    /** What the run reads, for lineage: the topic, or the store of the dead letters replayed. */
    public LineageDataset lineage(Read read, Schema schema) {
      return read instanceof Read.Replayed replayed
          ? replayed.replay().store().lineageDataset()
          : LineageDataset.kafka(bootstrapServers, topic, schema.toString());
    }

    /** The consumer group's lag for /metrics, when the run reads the topic under a group. */
    public Optional<ConsumerLag> lag(Read read) {
      if (read instanceof Read.Replayed || consumerGroup == null) {
        return Optional.empty();
      }
      return Optional.of(
          new ConsumerLag(
              topic, () -> KafkaOffsets.lag(bootstrapServers, properties, topic, consumerGroup)));
    }
  }

  /** How rows are written: rows per batch, retries of a batch, and COPY or INSERT. */
  public record WriteSettings(int batchSize, int maxRetries, boolean copy)
      implements Serializable {}

  @Override
  public Optional<String> needsLauncher(KafkaToJdbcOptions options) {
    return launcherFor(options);
  }

  /** Why a run of these options needs the launcher (a bounded one plans and commits offsets). */
  public static Optional<String> launcherFor(KafkaTableOptions options) {
    return options.getBounded()
        ? Optional.of(
            "a bounded kafka-to-jdbc run plans the offsets it reads when it starts, and commits"
                + " them (and merges a staging table) after it succeeded: only a launcher can do"
                + " that, so a classic template would freeze today's offsets. Use the Flex Template,"
                + " or leave out --bounded for a streaming template")
        : Optional.empty();
  }

  /** Where a run's records come from: the topic, or the dead letters a replay selected. */
  public sealed interface Source extends Serializable {
    /** The topic of the options. */
    record Topic() implements Source {}

    /** The dead letters of a replay (the topic is not read, no offsets are committed). */
    record Replayed(Replay replay) implements Source {}
  }

  /** How the values are parsed and which of two versions of a row wins. */
  public sealed interface Parse extends Serializable {
    /**
     * kafka-to-jdbc's records: JSON or Avro values of the schema, a row replaced only by a record
     * of the same or a newer {@code versionField}.
     *
     * @param format the values' encoding (null: JSON)
     * @param writerSchemaVersion the version plain Avro values were written with (null: current)
     * @param onSchemaChange what a field the contract lacks does (add_columns: the schema parsed
     *     into is {@link SchemaChanges#open open})
     */
    record Records(
        @Nullable RecordFormat format,
        String versionField,
        @Nullable Integer writerSchemaVersion,
        SchemaChanges.Policy onSchemaChange)
        implements Parse {
      public Records(
          @Nullable RecordFormat format,
          String versionField,
          @Nullable Integer writerSchemaVersion) {
        this(format, versionField, writerSchemaVersion, SchemaChanges.Policy.dead_letter);
      }
    }

    /**
     * cdc-to-jdbc's Debezium change events onto a replica table ({@link
     * ChangeEvents#replicaSchema}), ordered by their source position.
     *
     * @param deletes soft deletes keep the row marked deleted; hard ones move it to a table
     * @param onSchemaChange what a column the replica lacks does
     */
    record Changes(ChangeEvents events, Deletes deletes, SchemaChanges.Policy onSchemaChange)
        implements Parse {
      public Changes(ChangeEvents events, Deletes deletes) {
        this(events, deletes, SchemaChanges.Policy.dead_letter);
      }
    }
  }

  /** What a delete does to its row. */
  public sealed interface Deletes extends Serializable {
    /** The row stays, marked {@code _cdc_deleted}. */
    record Soft() implements Deletes {}

    /**
     * A bounded run moves the rows it marked deleted into {@code table} after it succeeded, and no
     * older write of a key there is applied.
     */
    record Hard(String table) implements Deletes {}
  }

  @Override
  public Plan plan(KafkaToJdbcOptions options) {
    return planChanges(options, new Source.Topic(), NAME, records(options));
  }

  private static Parse records(KafkaToJdbcOptions options) {
    return new Parse.Records(
        options.getFormat(),
        options.getVersionField(),
        options.getWriterSchemaVersion(),
        options.getOnSchemaChange());
  }

  /**
   * A replay: the selected dead letters go through parse, rules and the versioned upsert (staged
   * when the rules gate); the topic is not read and no offsets are committed.
   */
  @Override
  public Plan planReplay(KafkaToJdbcOptions options, Replay replay) {
    if (options.getStartReadTime() != null || options.getStopReadTime() != null) {
      throw new IllegalArgumentException(
          "a replay reads dead letters, not the topic: leave out --startReadTime and"
              + " --stopReadTime (a backfill is a bounded run with them)");
    }
    return planChanges(options, new Source.Replayed(replay), NAME, records(options));
  }

  /**
   * The plan of a run of {@code pipeline} reading {@code source}: kafka-to-jdbc's ({@link
   * Parse.Records}), or cdc-to-jdbc's, which applies Debezium change events to a replica table
   * ({@link Parse.Changes}: the schema's columns, the source position that guards each row, the
   * deleted flag).
   */
  public static Plan planChanges(
      KafkaTableOptions options, Source source, String pipeline, Parse parse) {
    Replay replay = source instanceof Source.Replayed replayed ? replayed.replay() : null;
    ChangeEvents changes = parse instanceof Parse.Changes c ? c.events() : null;
    String deletedKeys =
        parse instanceof Parse.Changes c && c.deletes() instanceof Deletes.Hard hard
            ? hard.table()
            : null;
    Parse.Records records = parse instanceof Parse.Records r ? r : null;
    Schema schema = SchemaChoice.of(options.getSchema(), options.getSchemaFile());
    Schema contract = schema;
    SchemaChanges.Policy onSchemaChange = options.getOnSchemaChange();
    if (changes != null) {
      schema = ChangeEvents.replicaSchema(schema);
    }
    // Personal data is tokenized, hashed, masked or dropped right after parsing: the rules, the
    // transform and the table see the published schema.
    PiiKeysSource piiKeys = PersonalData.forContract(contract, options);
    InputFormat format =
        changes != null
            ? InputFormat.DEBEZIUM
            : records.format() == null ? InputFormat.JSONL : records.format().input();
    if (format == InputFormat.CSV) {
      throw new IllegalArgumentException(
          "--format must be json or avro for Kafka values, but was csv");
    }
    SqlIdentifiers.parts("table", options.getTable());
    JdbcConnection connection =
        JdbcConnection.of(options.getJdbcUrl(), options.getJdbcUser(), options.getJdbcPassword())
            .allowingCleartextPassword(options.getAllowCleartextPassword());
    boolean bounded = replay != null || options.getBounded();
    ReadWindow window = ReadWindow.of(options);
    Long startReadTime = window.start();
    Long stopReadTime = window.stop();
    WriteSettings write =
        new WriteSettings(
            options.getBatchSize(),
            options.getMaxRetries(),
            options.getWriteMethod() == WriteMethod.copy);
    if (options.getEventTimeField() != null) {
      EventTimeFromField.of(PiiPolicy.published(schema), options.getEventTimeField());
    }
    Rules rules =
        Rules.load(
            options, PiiPolicy.published(schema), pipeline, new JdbcReferenceLookup(connection));
    Rules.checkHistory(rules == null ? null : rules.file(), options.getRunHistory());
    // The database is asked once the options and files are checked.
    boolean scd2 = options.getHistory() == HistoryOptions.History.scd2;
    List<String> keys =
        options.getKeyFields() != null
            ? options.getKeyFields().stream().map(String::strip).toList()
            : primaryKey(connection, options.getTable()).stream()
                // A history table's primary key is the record's key and valid_from.
                .filter(k -> !scd2 || !k.equals(HistorySql.VALID_FROM))
                .toList();
    Transform transform =
        Transform.plan(
            options,
            PiiPolicy.published(schema),
            connection,
            decimalColumns(connection, options.getTable()),
            false);
    if (transform != null && changes != null && !transform.steps().projectionOnly()) {
      throw new IllegalArgumentException(
          "cdc-to-jdbc applies change events to a replica of the source table: its transform may"
              + " only select columns, renamed or not (SELECT a, b AS c FROM input), with no"
              + " expression, WHERE, join or aggregate, which would make the replica differ from"
              + " its source");
    }
    SchemaChangeLog addColumns = null;
    if (onSchemaChange == SchemaChanges.Policy.add_columns) {
      addColumns = addColumns(options, format, transform, connection, contract);
      // The columns earlier runs added are part of the contract from now on.
      schema = SchemaChanges.withColumns(schema, recorded(connection, addColumns));
    }
    Schema sink = transform == null ? PiiPolicy.published(schema) : transform.output();
    String versionField = changes != null ? ChangeEvents.POSITION : records.versionField();
    HistorySql history =
        scd2 ? history(options, sink, keys, versionField, changes != null, deletedKeys) : null;
    if (history != null && addColumns != null) {
      // A new field becomes a column of the history and of its ledger, in one transaction.
      addColumns = addColumns.withCompanion(history.ledger());
    }
    UpsertSql statements =
        history != null
            ? UpsertSql.of(history.ledger(), sink, history.ledgerKey(), versionField)
            : UpsertSql.of(options.getTable(), sink, keys, versionField);
    if (deletedKeys != null) {
      if (!bounded) {
        throw new IllegalArgumentException(
            "--deleteMode=hard needs --bounded: deleted rows are purged into their deleted-keys"
                + " table after a run succeeded (a streaming run keeps soft deletes)");
      }
      statements = statements.withDeletedKeys(deletedKeys);
      checkDeletedKeys(connection, statements);
    }
    if (history != null) {
      checkHistoryTables(connection, history, sink);
    } else {
      checkTable(connection, options.getTable(), sink, keys);
    }
    KafkaTopic kafka =
        new KafkaTopic(
            options.getBootstrapServers(),
            options.getTopic(),
            options.getConsumerGroup(),
            KafkaSourceOptions.Clients.of(options));
    KafkaOffsets offsets =
        bounded && replay == null
            ? KafkaOffsets.plan(
                kafka.bootstrapServers(),
                kafka.properties(),
                kafka.topic(),
                kafka.consumerGroup(),
                startReadTime,
                stopReadTime)
            : null;

    // A bounded run's dead-letter file is named after where its read starts: a rerun after a
    // failure replaces the failed run's, a later run never overwrites an earlier one's.
    DeadLetterSink deadLetterSink =
        DeadLetterSinks.from(options)
            .forRun(
                replay != null ? "replay-" + replay.tag() : bounded ? offsets.startTag() : null);

    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put(history != null ? "history" : "table", options.getTable());
    if (history != null) {
      outputs.put("history versions", history.ledger());
    }
    outputs.put("dead letters", deadLetterSink.location());
    if (addColumns != null && addColumns.candidates() != null) {
      outputs.put("candidate contracts", addColumns.candidates());
    }
    if (replay != null) {
      outputs.put("replayed from", replay.from());
    }
    // Write-audit-publish: a bounded run judged by rules writes to a staging copy of the table and
    // merges it into the table only once the quality gate is open.
    // So does a bounded run that stops at a schema change: it publishes nothing.
    boolean staged =
        bounded
            && ((rules != null && rules.gates()) || onSchemaChange == SchemaChanges.Policy.fail);
    if (staged && history != null) {
      throw new IllegalArgumentException(
          "--history=scd2 cannot write through a staging table (a bounded run with error rules,"
              + " or --onSchemaChange=fail): the history is rebuilt from its ledger as it is"
              + " written. Judge the events with warn rules, or without --bounded");
    }
    if (staged && addColumns != null) {
      throw new IllegalArgumentException(
          "--onSchemaChange=add_columns cannot add columns through the staging table of a quality"
              + " gate (--rules with error rules in a bounded run): run the gate with"
              + " --onSchemaChange=dead_letter, then replay the schema dead letters with"
              + " add_columns");
    }
    StagingTable stage = staged ? StagingTable.next(connection, options.getTable()) : null;
    if (stage != null) {
      outputs.put("staged in", stage.staging());
    }
    RunPlan run =
        RunPlan.of(bounded, outputs, options.getRunReport())
            .withQuality(rules)
            .withHistory(options.getRunHistory());
    if (stage != null) {
      run =
          run.withPrepare(new Steps.CreateStage(stage))
              .withOnSuccess(new Steps.MergeStage(stage, statements))
              .withCleanup(new Steps.DropStage(stage));
    }
    if (deletedKeys != null) {
      run = run.withOnSuccess(new Steps.PurgeDeleted(connection, statements, ChangeEvents.DELETED));
    }
    // A bounded run commits its consumer group's offsets only once everything it read is written
    // (and merged, when staged): a run that fails reads the same records again.
    if (bounded && replay == null && kafka.consumerGroup() != null) {
      run =
          run.withOnSuccess(
              new Steps.CommitOffsets(
                  offsets, kafka.bootstrapServers(), kafka.properties(), kafka.consumerGroup()));
    }
    if (replay != null) {
      run = run.withOnSuccess(replay.mark());
    }
    if (!bounded) {
      // A stream plans no offsets: its login and topic are checked before it starts.
      run =
          run.withPrepare(
              new Steps.CheckKafkaTopic(
                  kafka.bootstrapServers(), kafka.properties(), kafka.topic()));
    }
    Read read =
        replay != null
            ? new Read.Replayed(replay)
            : bounded
                ? new Read.Bounded(offsets, options.getReadChunkRecords())
                : new Read.Stream();
    return new Plan(
        run,
        schema,
        parse,
        format,
        kafka,
        read,
        connection,
        statements,
        stage == null ? new Target.Table() : new Target.Staged(stage),
        write,
        rules,
        options.getEventTimeField(),
        deadLetterSink,
        UUID.randomUUID().toString(),
        pipeline,
        transform,
        addColumns,
        history,
        piiKeys);
  }

  /** The SCD2 history of the run's records, checked against the other options. */
  private static HistorySql history(
      KafkaTableOptions options,
      Schema sink,
      List<String> keys,
      String versionField,
      boolean changes,
      @Nullable String deletedKeys) {
    if (deletedKeys != null) {
      throw new IllegalArgumentException(
          "--history=scd2 keeps deletes as history rows (is_deleted): leave out --deleteMode=hard");
    }
    List<String> tracked =
        options.getHistoryColumns() == null
            ? List.of()
            : options.getHistoryColumns().stream().map(String::strip).toList();
    String ledger =
        options.getHistoryVersions() != null
            ? options.getHistoryVersions()
            : options.getTable() + "_versions";
    return HistorySql.of(
        options.getTable(),
        ledger,
        sink,
        keys,
        versionField,
        tracked,
        changes ? ChangeEvents.DELETED : null);
  }

  /**
   * The history table (the records' columns and the four history columns, keyed by the key and
   * valid_from) and its ledger (the records' columns, keyed by the key and version) must exist.
   */
  private static void checkHistoryTables(
      JdbcConnection connection, HistorySql history, Schema sink) {
    try {
      checkTable(connection, history.ledger(), sink, history.ledgerKey());
      checkTable(
          connection, history.history(), HistorySql.historySchema(sink), history.historyKey());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          e.getMessage()
              + ". --history=scd2 writes two tables; for a target shaped like table T they are: "
              + history.ddl("T"),
          e);
    }
  }

  /**
   * The ledger of added columns for an add_columns run, checked: JSON values, no transform, and the
   * candidate contracts' directory.
   */
  private static SchemaChangeLog addColumns(
      KafkaTableOptions options,
      InputFormat format,
      @Nullable Transform transform,
      JdbcConnection connection,
      Schema contract) {
    SchemaChangeOptions.checkAddColumns(format, transform != null);
    String candidates = SchemaChangeOptions.candidateDirectory(options, options.getRunReport());
    return new SchemaChangeLog(
        options.getSchemaChangeLog(), options.getTable(), contract.toString(), candidates);
  }

  /** The columns earlier add_columns runs added to the table; the ledger must exist. */
  private static Map<String, String> recorded(JdbcConnection connection, SchemaChangeLog log) {
    try {
      return connection.withDirect(log::recorded);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--onSchemaChange=add_columns records the columns it adds in "
              + log.ledger()
              + " (--schemaChangeLog), which cannot be read on "
              + connection.safeUrl()
              + " (run the migrations: sluice migrate): "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public void build(Pipeline pipeline, Plan plan) {
    if (plan.replay() != null) {
      build(
          pipeline,
          plan,
          plan.replay().read(plan.pipeline()),
          plan.replay().dryRun() ? Replay.dryWrite(plan.pipeline()) : upsert(plan),
          plan.replay().deadLetters(plan.deadLetters().writer()));
    } else {
      build(pipeline, plan, source(plan), upsert(plan), plan.deadLetters().writer());
    }
  }

  @Override
  public List<LineageDataset> lineageInputs(Plan plan) {
    List<LineageDataset> inputs = new ArrayList<>();
    inputs.add(plan.kafka().lineage(plan.read(), plan.schema()));
    if (plan.transform() != null) {
      inputs.addAll(plan.transform().lookupDatasets());
    }
    return inputs;
  }

  @Override
  public Optional<ConsumerLag> consumerLag(Plan plan) {
    return plan.kafka().lag(plan.read());
  }

  @Override
  public List<LineageDataset> lineageOutputs(Plan plan) {
    LineageDataset table =
        plan.history() != null
            ? LineageDataset.postgres(
                plan.database(),
                plan.history().history(),
                HistorySql.historySchema(plan.sinkSchema()).toString())
            : LineageDataset.postgres(
                plan.database(), plan.upsert().table(), plan.sinkSchema().toString());
    if (plan.transform() != null) {
      table =
          plan.transform()
              .withColumnLineage(table, plan.kafka().lineage(plan.read(), plan.schema()));
    }
    table =
        PersonalData.withColumnLineage(
            table, plan.kafka().lineage(plan.read(), plan.schema()), plan.schema());
    return List.of(table, plan.deadLetters().lineageDataset());
  }

  /** The plan's read of the topic. */
  static KafkaSource source(Plan plan) {
    return plan.kafka().source(plan.read(), plan.runId(), plan.pipeline());
  }

  /** The plan's write into the table (or its staging table). */
  static JdbcUpsert upsert(Plan plan) {
    JdbcUpsert upsert =
        JdbcUpsert.into(plan.database(), plan.upsert(), plan.pipeline())
            .withProgressOf(plan.runId())
            .withBatchSize(plan.write().batchSize())
            .withRetries(plan.write().maxRetries(), 200)
            .withCopy(plan.write().copy());
    if (plan.history() != null) {
      upsert = upsert.withHistory(plan.history());
    }
    if (plan.addColumns() != null) {
      upsert = upsert.withAddColumns(plan.addColumns());
    }
    return plan.target() instanceof Target.Staged staged
        ? upsert.withStaging(staged.stage())
        : upsert;
  }

  /**
   * The graph of {@code plan} with its read, its write and its dead-letter sink given: the plan's
   * own in a run, others in tests of the graph alone.
   */
  public static void build(
      Pipeline pipeline,
      Plan plan,
      PTransform<PBegin, PCollection<SourceRecord>> read,
      PTransform<PCollection<Traced<GenericRecord>>, Result<Long>> write,
      PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetterSink) {
    DeadLetterRouting.Collector deadLetters =
        DeadLetterRouting.register(
            pipeline,
            Accounting.of(plan.pipeline()),
            deadLetterSink,
            Pii.of(plan.schema(), plan.piiKeys()));
    PCollection<Traced<GenericRecord>> records =
        records(
            pipeline,
            read,
            plan.schema(),
            plan.parse(),
            plan.format(),
            plan.rules(),
            plan.eventTimeField(),
            !plan.run().bounded(),
            plan.pipeline(),
            deadLetters,
            plan.piiKeys());
    if (plan.transform() != null) {
      records = plan.transform().apply(records, deadLetters, plan.pipeline());
    }
    // No grouping before the sink: each batch keeps the newest version of its keys, and the
    // version guard orders keys across batches. Rows reach the table as they are read, in bounded
    // and streaming runs alike, and everything read before a checkpoint is written by then.
    Result<Long> written = records.apply("Upsert", write);
    deadLetters.add(written.deadLetters());
    deadLetters.close();
  }

  /**
   * The steps every Kafka pipeline runs before its sink: read, parse (records or change events)
   * with the contract's personal-data policies, rules and event time; what fails goes to {@code
   * deadLetters}.
   *
   * @param streaming whether dataset rules are judged per window rather than once
   * @param piiKeys the keys of the contract's personal-data policies, or null when it has none
   */
  public static PCollection<Traced<GenericRecord>> records(
      Pipeline pipeline,
      PTransform<PBegin, PCollection<SourceRecord>> read,
      Schema schema,
      Parse parse,
      InputFormat format,
      @Nullable Rules rules,
      @Nullable String eventTimeField,
      boolean streaming,
      String name,
      DeadLetterRouting.Collector deadLetters,
      @Nullable PiiKeysSource piiKeys) {
    PCollection<SourceRecord> raw = pipeline.apply("ReadKafka", read);
    Result<Traced<GenericRecord>> parsed =
        raw.apply(
            "Parse",
            (parse instanceof Parse.Changes changes
                    ? ParseRecords.changes(open(schema, changes.onSchemaChange()), changes.events())
                        .withSchemaChanges(changes.onSchemaChange())
                    : parseRecords(schema, format, (Parse.Records) parse))
                .withPii(piiKeys)
                .withPipeline(name));
    deadLetters.add(parsed.deadLetters());
    PCollection<Traced<GenericRecord>> records = parsed.output();
    if (rules != null) {
      records = rules.apply(records, deadLetters, streaming);
    }
    if (eventTimeField != null) {
      records =
          records.apply(
              "EventTime", EventTimeFromField.of(PiiPolicy.published(schema), eventTimeField));
    }
    return records;
  }

  /** The schema records are parsed into: open to new fields under add_columns. */
  private static Schema open(Schema schema, SchemaChanges.Policy policy) {
    return policy == SchemaChanges.Policy.add_columns ? SchemaChanges.open(schema) : schema;
  }

  /** The parse of kafka-to-jdbc's records, under its schema-change policy. */
  private static ParseRecords parseRecords(Schema schema, InputFormat format, Parse.Records parse) {
    return ParseRecords.of(open(schema, parse.onSchemaChange()), format)
        .withWriterVersion(parse.writerSchemaVersion())
        .withSchemaChanges(parse.onSchemaChange());
  }

  /**
   * A bounded read's window of Kafka record times, {@code --startReadTime} and {@code
   * --stopReadTime} in epoch millis (either may be open).
   */
  public record ReadWindow(@Nullable Long start, @Nullable Long stop) {
    /** The window the options give, checked: each needs --bounded, and start before stop. */
    public static ReadWindow of(KafkaSourceOptions options) {
      Long start = readTime(options, "startReadTime", options.getStartReadTime());
      Long stop = readTime(options, "stopReadTime", options.getStopReadTime());
      if (start != null && stop != null && start >= stop) {
        throw new IllegalArgumentException(
            "--startReadTime must be before --stopReadTime, but "
                + options.getStartReadTime()
                + " is not before "
                + options.getStopReadTime());
      }
      return new ReadWindow(start, stop);
    }
  }

  /** A bounded read's time option ({@code --startReadTime}, {@code --stopReadTime}) in millis. */
  private static Long readTime(KafkaSourceOptions options, String flag, String value) {
    if (value == null) {
      return null;
    }
    if (!options.getBounded()) {
      throw new IllegalArgumentException("--" + flag + " needs --bounded");
    }
    try {
      return OffsetDateTime.parse(value).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "--"
              + flag
              + " must be an ISO-8601 time with offset, e.g. 2026-11-25T00:00:00Z, but was '"
              + value
              + "'");
    }
  }

  /**
   * Hard deletes need their deleted-keys table: the key columns and the position, unique on the
   * key.
   */
  private static void checkDeletedKeys(JdbcConnection connection, UpsertSql statements) {
    try {
      connection.probe(statements.probeDeletedKeys());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--deleteMode=hard needs the deleted-keys table "
              + statements.deletedKeys()
              + " with the key columns ("
              + String.join(", ", statements.keyFields())
              + ") as its primary key and "
              + ChangeEvents.POSITION
              + " bigint: "
              + e.getMessage(),
          e);
    }
  }

  /** The table's primary key, for a run without --keyFields; refused when it has none. */
  private static List<String> primaryKey(JdbcConnection connection, String table) {
    List<String> keys;
    try {
      keys = connection.withDirect(c -> TableCheck.primaryKey(c, table));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Cannot read the primary key of table "
              + table
              + " on "
              + connection.safeUrl()
              + ": "
              + e.getMessage(),
          e);
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(
          "table "
              + table
              + " has no primary key (or does not exist): give --keyFields, its unique key");
    }
    return keys;
  }

  /** The precision and scale of the table's numeric columns, for a transform's decimals. */
  private static Map<String, int[]> decimalColumns(JdbcConnection connection, String table) {
    try {
      return connection.withDirect(c -> TableCheck.decimalColumns(c, table));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Cannot read the columns of table "
              + table
              + " on "
              + connection.safeUrl()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** The table must exist and fit the schema before anything is read. */
  private static void checkTable(
      JdbcConnection connection, String table, Schema schema, List<String> keys) {
    try {
      connection.withDirect(
          c -> {
            TableCheck.verify(c, table, schema, keys);
            return null;
          });
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Cannot check table " + table + " on " + connection.safeUrl() + ": " + e.getMessage(), e);
    }
  }
}

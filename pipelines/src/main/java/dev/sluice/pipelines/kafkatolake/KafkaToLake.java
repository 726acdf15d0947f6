package dev.sluice.pipelines.kafkatolake;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.LocalDirectory;
import dev.sluice.io.iceberg.MergeIcebergRows;
import dev.sluice.io.iceberg.TableOffsets;
import dev.sluice.io.iceberg.WriteIcebergWindows;
import dev.sluice.io.kafka.KafkaOffsets;
import dev.sluice.io.kafka.KafkaSource;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.metrics.ConsumerLag;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc.KafkaTopic;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc.Parse;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbc.Read;
import dev.sluice.pipelines.options.Durations;
import dev.sluice.pipelines.options.KafkaSourceOptions;
import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.options.TransformOptions;
import dev.sluice.pipelines.plan.DeadLetterSinks;
import dev.sluice.pipelines.plan.LakeSink;
import dev.sluice.pipelines.plan.LakeTarget;
import dev.sluice.pipelines.plan.Lakehouse;
import dev.sluice.pipelines.plan.PersonalData;
import dev.sluice.pipelines.plan.Replay;
import dev.sluice.pipelines.plan.Rules;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.pipelines.plan.SchemaChoice;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.plan.Steps;
import dev.sluice.pipelines.plan.Transform;
import dev.sluice.schemas.PiiPolicy;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.parse.ChangeEvents;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.SchemaChanges;
import dev.sluice.transforms.pii.Pii;
import dev.sluice.transforms.pii.PiiKeysSource;
import dev.sluice.transforms.time.EventTimeFromField;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;

/**
 * {@code kafka-to-lake}: Kafka events, parsed, checked and dead-lettered as kafka-to-jdbc does,
 * appended to an Iceberg table (an event log), bounded or streaming.
 *
 * <p>Exactly once, by the table: every commit records in its snapshot summary the next offset of
 * each partition its rows end at ({@link TableOffsets}), in the same atomic commit as the rows. A
 * bounded run starts from those offsets whatever its consumer group committed, and commits the
 * group's offsets only after the table commit; a streaming run commits once per {@code
 * --commitInterval} (a commit id of pipeline, table, run and pane makes a retried commit a no-op)
 * and commits the group's offsets after each table commit, not when Beam finalizes a checkpoint. So
 * a run that dies between the table commit and the offset commit reads nothing twice.
 */
public final class KafkaToLake implements SluicePipeline<KafkaToLakeOptions, KafkaToLake.Plan> {
  public static final String NAME = "kafka-to-lake";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Kafka events appended to an Iceberg table, exactly once, streaming or bounded";
  }

  @Override
  public String lineage() {
    return "Reads --topic on --bootstrapServers, parses each value against schema --schema,"
        + " dead-letters the values that do not parse, do not fit the schema or fail an error"
        + " rule of --rules to --deadLetter, and appends the rest to the Iceberg table --output"
        + " (Parquet data files), with the offsets they end at in each snapshot's summary.";
  }

  @Override
  public Class<KafkaToLakeOptions> optionsClass() {
    return KafkaToLakeOptions.class;
  }

  /**
   * What a kafka-to-lake run does, decided before it starts.
   *
   * @param run the run's own part: bounded or not, outputs, quality rules, its steps (the table
   *     commit, then the consumer group's offsets)
   * @param schema the schema values are parsed into
   * @param parse how values become records
   * @param format how values are encoded
   * @param kafka where the events are
   * @param read the stream, the planned offsets of a bounded run, or a replay's dead letters
   * @param sink the table write: appended, or merged by key
   * @param rules the checked rules, or null
   * @param eventTimeField the field that gives event time, or null
   * @param commitInterval a streaming run's time between table commits
   * @param deadLetters the checked dead-letter sink, named after the run's input
   * @param runId the run's id, for progress lines
   * @param pipeline the pipeline's name (kafka-to-lake or cdc-to-lake)
   * @param transform the transform step between the rules and the table, or null
   */
  public record Plan(
      RunPlan run,
      Schema schema,
      Parse parse,
      InputFormat format,
      KafkaTopic kafka,
      Read read,
      LakeSink sink,
      @Nullable Rules rules,
      @Nullable String eventTimeField,
      Duration commitInterval,
      DeadLetterSink deadLetters,
      String runId,
      String pipeline,
      @Nullable Transform transform,
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

  @Override
  public Optional<String> needsLauncher(KafkaToLakeOptions options) {
    return options.getBounded()
        ? Optional.of(
            "a bounded kafka-to-lake run plans the offsets it reads when it starts, and commits"
                + " its table and then its offsets after it succeeded: only a launcher can do"
                + " that. Leave out --bounded for a streaming template")
        : Optional.empty();
  }

  @Override
  public Plan plan(KafkaToLakeOptions options) {
    return plan(options, null);
  }

  /**
   * A replay: the selected dead letters go through parse and rules and are appended in one commit
   * named after the replay; the topic is not read and no offsets are committed.
   */
  @Override
  public Plan planReplay(KafkaToLakeOptions options, Replay replay) {
    if (options.getStartReadTime() != null || options.getStopReadTime() != null) {
      throw new IllegalArgumentException(
          "a replay reads dead letters, not the topic: leave out --startReadTime and"
              + " --stopReadTime");
    }
    return plan(options, replay);
  }

  private Plan plan(KafkaToLakeOptions options, @Nullable Replay replay) {
    InputFormat format =
        options.getFormat() == null ? InputFormat.JSONL : options.getFormat().input();
    if (format == InputFormat.CSV) {
      throw new IllegalArgumentException(
          "--format must be json or avro for Kafka values, but was csv");
    }
    SchemaChangeOptions.checkLakeAddColumns(
        options,
        options.getOutput(),
        format,
        options.getSql() != null || options.getTransform() != null);
    Schema contract = SchemaChoice.of(options.getSchema(), options.getSchemaFile());
    boolean addColumns = options.getOnSchemaChange() == SchemaChanges.Policy.add_columns;
    return planEvents(
        options,
        replay,
        new Parse.Records(
            options.getFormat(),
            null,
            options.getWriterSchemaVersion(),
            options.getOnSchemaChange()),
        format,
        // The columns earlier add_columns runs added to the table are part of the contract now.
        addColumns
            ? SchemaChanges.withColumns(
                contract, Lakehouse.addedColumns(options.getOutput(), options))
            : contract,
        options.getVersionField(),
        options,
        NAME,
        addColumns ? contract : null,
        options);
  }

  /**
   * The plan of a run of {@code pipeline} that writes Kafka events into an Iceberg table: parsed by
   * {@code parse} into {@code schema}, appended, or merged by key and {@code versionField}; under
   * {@code --onSchemaChange=add_columns} ({@code addColumnsTo}, the reviewed contract, given), new
   * fields become columns of the table.
   */
  public static Plan planEvents(
      LakeEventsOptions options,
      @Nullable Replay replay,
      Parse parse,
      InputFormat format,
      Schema schema,
      String versionField,
      @Nullable TransformOptions transformOptions,
      String pipeline,
      @Nullable Schema addColumnsTo,
      @Nullable SchemaChangeOptions schemaChanges) {
    if (!options.getOutput().startsWith("iceberg:")) {
      throw new IllegalArgumentException(
          "--output must name an Iceberg table, iceberg:<namespace>.<table>, but was '"
              + options.getOutput()
              + "' ("
              + pipeline
              + " writes tables only)");
    }
    // Personal data is tokenized, hashed, masked or dropped right after parsing: the rules, the
    // transform and the table see the published schema.
    PiiKeysSource piiKeys = PersonalData.forContract(schema, options);
    Schema published = PiiPolicy.published(schema);
    if (options.getEventTimeField() != null) {
      EventTimeFromField.of(published, options.getEventTimeField());
    }
    boolean bounded = replay != null || options.getBounded();
    String group = options.getConsumerGroup();
    if (!bounded && group == null) {
      throw new IllegalArgumentException(
          "a streaming kafka-to-lake run needs --consumerGroup: its position is the group's"
              + " offsets, committed after each table commit");
    }
    KafkaToJdbc.ReadWindow window = KafkaToJdbc.ReadWindow.of(options);
    Duration commitInterval = Durations.parse("commitInterval", options.getCommitInterval());
    boolean changes = parse instanceof KafkaToJdbc.Parse.Changes;
    // Change events keep a replica: its transform only selects columns, and its contract gets the
    // replica's bookkeeping fields (the position each row is guarded by, the deleted flag).
    Transform transform =
        transformOptions == null
            ? null
            : Transform.plan(
                transformOptions,
                published,
                null,
                Map.of(),
                true,
                changes ? ChangeEvents::replicaSchema : UnaryOperator.identity());
    if (transform != null && changes && !transform.steps().projectionOnly()) {
      throw new IllegalArgumentException(
          pipeline
              + " applies change events to a replica of the source table: its transform may only"
              + " select columns, renamed or not (SELECT a, b AS c, _cdc_position, _cdc_deleted"
              + " FROM input), with no expression, WHERE, join or aggregate, which would make the"
              + " replica differ from its source");
    }
    // The table holds the transform's rows when there is one: its contract is the table's.
    Schema rows = transform == null ? published : transform.output();
    if (transform != null
        && options.getEventTimeField() != null
        && rows.getField(options.getEventTimeField()) == null) {
      throw new IllegalArgumentException(
          "--eventTimeField "
              + options.getEventTimeField()
              + " partitions the table by day, but the transform's rows ("
              + rows.getFullName()
              + ") have no such column: keep it in the output, or leave out --eventTimeField");
    }
    Lakehouse.Table table =
        Lakehouse.of(options.getOutput(), options, rows, options.getEventTimeField());
    if (addColumnsTo != null) {
      table =
          table.withAddColumns(
              pipeline,
              addColumnsTo,
              SchemaChangeOptions.candidateDirectory(
                  schemaChanges,
                  options.getRunReport() != null
                      ? options.getRunReport()
                      : table.home() + "/run-report.json"));
    }
    LocalDirectory.checkWritable("warehouse", table.home());
    KafkaTopic kafka =
        new KafkaTopic(
            options.getBootstrapServers(),
            options.getTopic(),
            group,
            KafkaSourceOptions.Clients.of(options));
    String offsetsKey = TableOffsets.key(kafka.topic());
    Map<Integer, Long> recorded;
    try {
      recorded = TableOffsets.recorded(table.catalog(), table.name(), offsetsKey);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot read the offsets table " + table.name() + " holds: " + e.getMessage(), e);
    }
    Rules rules = Rules.load(options, published, pipeline);
    Rules.checkHistory(rules == null ? null : rules.file(), options.getRunHistory());

    KafkaOffsets offsets =
        bounded && replay == null
            ? KafkaOffsets.plan(
                kafka.bootstrapServers(),
                kafka.properties(),
                kafka.topic(),
                group,
                window.start(),
                window.stop(),
                window.start() == null ? recorded : Map.of())
            : null;
    String tag = replay != null ? "replay-" + replay.tag() : bounded ? offsets.startTag() : null;
    DeadLetterSink deadLetterSink = DeadLetterSinks.from(options).forRun(tag);

    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put("table", options.getOutput());
    outputs.put("dead letters", deadLetterSink.location());
    if (replay != null) {
      outputs.put("replayed from", replay.from());
    }
    if (table.addColumns() != null) {
      outputs.put("candidate contracts", table.addColumns().candidate().directory());
    }
    RunPlan run = table.run(bounded, outputs, options, rules);
    List<String> keys =
        options.getKeyFields() == null
            ? List.of()
            : options.getKeyFields().stream().map(String::strip).toList();
    checkKeys(rows, keys, versionField);
    LakeSink sink;
    if (bounded) {
      String staging = table.home() + "/pending-" + UUID.randomUUID();
      String stem = "kafka-" + tag;
      LakeTarget lake = table.target(staging, stem);
      sink =
          keys.isEmpty()
              ? new LakeSink.Append(lake)
              : new LakeSink.Merge(
                  lake,
                  MergeIcebergRows.staged(
                      table.catalog(),
                      table.name(),
                      table.schemaJson(),
                      keys,
                      versionField,
                      pipeline,
                      stem,
                      staging.replaceAll("/+$", "") + "/" + LakePublisher.FILE_LIST));
      Map<String, String> summary = new LinkedHashMap<>();
      if (offsets != null && !offsets.ranges().isEmpty()) {
        summary.put("sluice.inputs", "kafka:" + kafka.topic());
        summary.put(offsetsKey, TableOffsets.format(merged(recorded, offsets.next())));
      }
      // Nothing is replaced: each run appends the events it read (a rerun starts where the
      // table's offsets end, so it never reads them again).
      run =
          table
              .withCommit(
                  run,
                  pipeline,
                  staging,
                  List.of(),
                  tag,
                  rules != null && rules.gates(),
                  null,
                  summary)
              .withCleanup(new Steps.DiscardStaging(staging));
      // The group's offsets move only once the table holds what was read before them, and up
      // to the table's on partitions this run had nothing to read.
      if (offsets != null && group != null) {
        run =
            run.withOnSuccess(
                new Steps.CommitOffsets(
                    KafkaOffsets.upTo(kafka.topic(), merged(recorded, offsets.next())),
                    kafka.bootstrapServers(),
                    kafka.properties(),
                    group));
      }
      if (replay != null) {
        run = run.withOnSuccess(replay.mark());
      }
    } else {
      String stem = "kafka-" + kafka.topic().replaceAll("[^A-Za-z0-9_-]", "_");
      WriteIcebergWindows.Positions positions =
          new WriteIcebergWindows.Positions(
              kafka.topic(),
              offsetsKey,
              new GroupOffsets(kafka.bootstrapServers(), kafka.properties(), group, kafka.topic()));
      LakeTarget lake = table.streamingEvents(pipeline, stem, positions);
      // A stream plans no offsets: its login and topic are checked before it starts.
      run =
          run.withPrepare(
              new Steps.CheckKafkaTopic(
                  kafka.bootstrapServers(), kafka.properties(), kafka.topic()));
      sink =
          keys.isEmpty()
              ? new LakeSink.Append(lake)
              : new LakeSink.Merge(
                  lake,
                  MergeIcebergRows.streaming(
                      table.catalog(),
                      table.name(),
                      table.schemaJson(),
                      keys,
                      versionField,
                      pipeline,
                      stem,
                      streamSummary(kafka.topic(), table),
                      positions));
      // A group that lags the table (a run that died after a table commit, before its offset
      // commit) is moved up to the table before the stream starts from the group's offsets.
      if (!recorded.isEmpty()) {
        run =
            run.withPrepare(
                new Steps.CommitOffsets(
                    KafkaOffsets.upTo(kafka.topic(), recorded),
                    kafka.bootstrapServers(),
                    kafka.properties(),
                    group));
      }
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
        sink,
        rules,
        options.getEventTimeField(),
        commitInterval,
        deadLetterSink,
        UUID.randomUUID().toString(),
        pipeline,
        transform,
        piiKeys);
  }

  /** What each streaming merge's snapshot summary says of its input and contract. */
  private static Map<String, String> streamSummary(String topic, Lakehouse.Table table) {
    Map<String, String> summary = new LinkedHashMap<>();
    summary.put("sluice.inputs", "kafka:" + topic);
    summary.putAll(table.contractSummary());
    return summary;
  }

  /** Merge keys and the version field must be fields of the contract, the version a number. */
  private static void checkKeys(Schema schema, List<String> keys, String versionField) {
    for (String key : keys) {
      if (schema.getField(key) == null) {
        throw new IllegalArgumentException(
            "--keyFields: '" + key + "' is not a field of schema " + schema.getFullName());
      }
    }
    if (keys.isEmpty()) {
      return;
    }
    Schema.Field version = schema.getField(versionField);
    Schema.Type type = version == null ? null : AvroTypes.nonNull(version.schema()).getType();
    if (type != Schema.Type.LONG && type != Schema.Type.INT) {
      throw new IllegalArgumentException(
          "--versionField: a merge needs a long or int version field of schema "
              + schema.getFullName()
              + ", but '"
              + versionField
              + "' is "
              + (version == null ? "not a field" : type));
    }
  }

  /** The next offsets after a read: the read's, and the table's for partitions it did not read. */
  private static Map<Integer, Long> merged(Map<Integer, Long> recorded, Map<Integer, Long> read) {
    Map<Integer, Long> next = new LinkedHashMap<>(recorded);
    read.forEach((p, o) -> next.merge(p, o, Math::max));
    return next;
  }

  @Override
  public void build(Pipeline pipeline, Plan plan) {
    Replay replay = plan.replay();
    DeadLetterRouting.Collector deadLetters =
        DeadLetterRouting.register(
            pipeline,
            Accounting.of(plan.pipeline()),
            replay == null
                ? plan.deadLetters().writer()
                : replay.deadLetters(plan.deadLetters().writer()),
            Pii.of(plan.schema(), plan.piiKeys()));
    PCollection<Traced<GenericRecord>> records =
        KafkaToJdbc.records(
            pipeline,
            replay != null ? replay.read(plan.pipeline()) : source(plan),
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
    records = plan.sink().lake().withNewColumns(records, deadLetters);
    if (!plan.run().bounded()) {
      // One commit per interval after a pane's first record, in processing time: no record is
      // ever late for it, whatever its event time.
      records =
          records.apply(
              "EveryCommit",
              Window.<Traced<GenericRecord>>into(new GlobalWindows())
                  .triggering(
                      Repeatedly.forever(
                          AfterProcessingTime.pastFirstElementInPane()
                              .plusDelayOf(plan.commitInterval())))
                  .withAllowedLateness(Duration.ZERO)
                  .discardingFiredPanes());
    }
    if (replay != null && replay.dryRun()) {
      records.apply("WriteLake", Replay.dryWrite(plan.pipeline()));
    } else {
      plan.sink().write(records, plan.sinkSchema(), plan.pipeline());
    }
    deadLetters.close();
  }

  /** The plan's read of the topic; the group's offsets are committed after the table's. */
  static KafkaSource source(Plan plan) {
    return plan.kafka()
        .source(plan.read(), plan.runId(), plan.pipeline())
        .withOffsetsCommittedBySink();
  }

  @Override
  public List<LineageDataset> lineageInputs(Plan plan) {
    return List.of(plan.kafka().lineage(plan.read(), plan.schema()));
  }

  @Override
  public List<LineageDataset> lineageOutputs(Plan plan) {
    LineageDataset table =
        LineageDataset.iceberg(
            plan.sink().lake().publishedAt(),
            plan.sink().lake().catalog().uri(),
            plan.sink().lake().table(),
            plan.sinkSchema().toString());
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

  @Override
  public Optional<ConsumerLag> consumerLag(Plan plan) {
    return plan.kafka().lag(plan.read());
  }
}

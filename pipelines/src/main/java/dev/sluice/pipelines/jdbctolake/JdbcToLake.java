package dev.sluice.pipelines.jdbctolake;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.files.LakeNames;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.LocalDirectory;
import dev.sluice.io.files.WriteLake;
import dev.sluice.io.iceberg.MergeIcebergRows;
import dev.sluice.io.iceberg.TableWatermarks;
import dev.sluice.io.jdbc.ExportState;
import dev.sluice.io.jdbc.IncrementalRead;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcReferenceLookup;
import dev.sluice.io.jdbc.ReadRanges;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.io.jdbc.TableCheck;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.pipelines.plan.DeadLetterSinks;
import dev.sluice.pipelines.plan.LakeSink;
import dev.sluice.pipelines.plan.LakeTarget;
import dev.sluice.pipelines.plan.Lakehouse;
import dev.sluice.pipelines.plan.Replay;
import dev.sluice.pipelines.plan.Rules;
import dev.sluice.pipelines.plan.RunPlan;
import dev.sluice.pipelines.plan.SluicePipeline;
import dev.sluice.pipelines.plan.Steps;
import dev.sluice.pipelines.plan.Transform;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.AvroTypes;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * jdbc-to-lake: exports a PostgreSQL table (or query) to date-partitioned Avro files, in parallel
 * over ranges of a column, incrementally by a high-watermark, publishing atomically: files are
 * staged, published with a {@code _SUCCESS} manifest only after the run succeeded, and only then is
 * the high-watermark committed.
 */
public final class JdbcToLake implements SluicePipeline<JdbcToLakeOptions, JdbcToLake.Plan> {
  public static final String NAME = "jdbc-to-lake";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "A PostgreSQL table into date-partitioned Avro files: incremental, parallel, rerun-safe";
  }

  @Override
  public String lineage() {
    return "Exports the rows of --table (or --query) whose --watermarkColumn is above the last"
        + " committed high-watermark and at or below its maximum at the start of the run, reading"
        + " --numPartitions ranges of --partitionColumn in parallel, maps the columns to Avro,"
        + " dead-letters rows that do not fit to --deadLetter, writes Avro files under"
        + " --output/dt=<date of --partitionField>/, publishes them with a _SUCCESS manifest, then"
        + " commits the new high-watermark to --stateTable; or, into --output=iceberg:<table>,"
        + " merges the rows by key with the high-watermark in the same commit.";
  }

  @Override
  public Class<JdbcToLakeOptions> optionsClass() {
    return JdbcToLakeOptions.class;
  }

  /**
   * What a jdbc-to-lake run does, decided before it starts.
   *
   * @param run the run's own part, with its steps: publish the staged files, commit the watermark
   * @param connection the source database
   * @param read the planned read: relation, columns, watermark range and ranges
   * @param sink where the rows go: the run's staging directory of a directory lake, or an Iceberg
   *     table (appended, or merged by key)
   * @param rules the checked rules, or null
   * @param deadLetters the checked dead-letter sink, named after the export and its range
   * @param deletedColumn the boolean column marking soft-deleted rows (Iceberg output), or null
   * @param transform the transform step between the rules and the lake, or null
   */
  public record Plan(
      RunPlan run,
      JdbcConnection connection,
      IncrementalRead.Planned read,
      LakeSink sink,
      @Nullable Rules rules,
      DeadLetterSink deadLetters,
      @Nullable String deletedColumn,
      @Nullable Transform transform)
      implements SluicePipeline.Plan {
    /** The schema of the rows the lake receives: the transform's output, or the rows read. */
    public Schema sinkSchema() {
      return transform == null ? read.avro().schema() : transform.output();
    }
  }

  /**
   * Refused: jdbc-to-lake's dead letters hold a row's text for people to read, not a record to
   * parse again, and the source table still has the rows.
   */
  @Override
  public Plan planReplay(JdbcToLakeOptions options, Replay replay) {
    throw new IllegalArgumentException(
        NAME
            + " cannot replay dead letters: they hold a row's text, and the table still has the"
            + " rows. Fix the cause and export them again (--fullRefresh, or move the export's"
            + " watermark back)");
  }

  @Override
  public Optional<String> needsLauncher(JdbcToLakeOptions options) {
    return Optional.of(
        "jdbc-to-lake plans its watermark range when it starts, then publishes the staged files and"
            + " commits the watermark after it succeeded: only a launcher can do that, so a classic"
            + " template would freeze today's range and never publish. Use the Flex Template");
  }

  @Override
  public Plan plan(JdbcToLakeOptions options) {
    if ((options.getTable() == null) == (options.getQuery() == null)) {
      throw new IllegalArgumentException("Give exactly one of --table and --query");
    }
    if (options.getNumPartitions() < 1) {
      throw new IllegalArgumentException(
          "--numPartitions must be >= 1, but was " + options.getNumPartitions());
    }
    String watermark =
        SqlIdentifiers.checkPart(
            "watermarkColumn", options.getWatermarkColumn(), options.getWatermarkColumn());
    String export =
        options.getExportName() != null
            ? options.getExportName()
            : options.getTable() != null ? options.getTable() : "query";
    JdbcConnection connection =
        JdbcConnection.of(options.getJdbcUrl(), options.getJdbcUser(), options.getJdbcPassword())
            .allowingCleartextPassword(options.getAllowCleartextPassword());
    ExportState state = new ExportState(options.getStateTable());
    IncrementalRead read =
        (options.getTable() != null
                ? IncrementalRead.ofTable(options.getTable())
                : IncrementalRead.ofQuery(options.getQuery()))
            .withWatermarkColumn(watermark)
            .withPartitionColumn(options.getPartitionColumn(), options.getNumPartitions())
            .withState(state, export)
            .withFullRefresh(options.getFullRefresh());
    boolean iceberg = options.getOutput().startsWith("iceberg:");
    if (iceberg) {
      // The table's own commits hold the export's high-watermark: the data and the watermark are
      // one atomic commit. The state table is for the directory lake.
      String name = options.getOutput().substring("iceberg:".length());
      try {
        read =
            read.withTarget(
                new IncrementalRead.Target(
                    TableWatermarks.recorded(
                            Lakehouse.catalog(options.getOutput(), options), name, export)
                        .orElse(null)));
      } catch (IOException e) {
        throw new IllegalStateException(
            "cannot read the watermark table " + name + " holds: " + e.getMessage(), e);
      }
    } else {
      LocalDirectory.checkWritable("output", options.getOutput());
    }
    String partitionField =
        options.getPartitionField() != null ? options.getPartitionField() : watermark;
    IncrementalRead.Planned planned;
    try {
      planned = connection.withDirect(read::plan);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Cannot plan the export from " + connection.safeUrl() + ": " + e.getMessage(), e);
    }
    Schema schema = planned.avro().schema();
    Transform transform = Transform.plan(options, schema, connection, Map.of(), true);
    // The lake holds the transform's rows when there is one: its contract is the lake's.
    Schema rows = transform == null ? schema : transform.output();
    WriteLake.checkPartitionField(rows, partitionField);
    // Files are named after the export and the range read: a rerun of the same range replaces its
    // own files, a full refresh replaces every file of this export, and other exports into the
    // same lake are never touched.
    boolean replaceAll = options.getFullRefresh() || planned.low() == null;
    String exportTag = LakeNames.tag(export);
    String runTag = exportTag + "-" + LakeNames.tag(replaceAll ? "full" : planned.low());
    String stem = LakeNames.stem(runTag);
    List<String> own = List.of(LakeNames.stem(replaceAll ? exportTag : runTag) + "-");
    DeadLetterSink deadLetterSink = DeadLetterSinks.from(options).forRun(runTag);
    Rules rules = Rules.load(options, schema, NAME, new JdbcReferenceLookup(connection));
    if (iceberg) {
      return planTable(
          options,
          connection,
          planned,
          export,
          watermark,
          partitionField,
          runTag,
          replaceAll,
          stem,
          own,
          deadLetterSink,
          rules,
          transform);
    }
    String output = options.getOutput().replaceAll("/+$", "");
    String staging = output + "/_sluice/staging-" + UUID.randomUUID();
    LakeTarget lake =
        new LakeTarget(staging, output, partitionField, 1, stem)
            .withFileFormat(options.getFileFormat());

    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put("lake", options.getOutput());
    outputs.put("watermark range", "(" + planned.low() + ", " + planned.high() + "]");
    outputs.put("dead letters", deadLetterSink.location());
    LinkedHashMap<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("export", export);
    manifest.put("source", planned.label());
    manifest.put("watermark_column", watermark);
    manifest.put("watermark_low_exclusive", planned.low());
    manifest.put("watermark_high_inclusive", planned.high());
    manifest.put("full_refresh", replaceAll);
    String report =
        options.getRunReport() != null
            ? options.getRunReport()
            : output + "/_sluice/run-report.json";
    RunPlan run =
        RunPlan.of(true, outputs, report)
            .withQuality(rules)
            .withHistory(
                options.getRunHistory() != null
                    ? options.getRunHistory()
                    : output + "/_sluice/history")
            .withOnSuccess(
                new Steps.PublishLake(NAME, rows.toString(), staging, output, own, manifest))
            .withCleanup(new Steps.DiscardStaging(staging))
            .withOnSuccess(
                new Steps.CommitWatermark(
                    connection, state, export, watermark, planned.committed()));
    return new Plan(
        run,
        connection,
        planned,
        new LakeSink.Append(lake),
        rules,
        deadLetterSink,
        null,
        transform);
  }

  /**
   * The plan of an export into an Iceberg table: merged by key (the source table's primary key or
   * --keyFields, the watermark column as version), or appended when there is no key; a full refresh
   * (or the first export) replaces every row of this export in one commit; the high-watermark goes
   * into the same commit's summary.
   */
  private static Plan planTable(
      JdbcToLakeOptions options,
      JdbcConnection connection,
      IncrementalRead.Planned planned,
      String export,
      String watermark,
      String partitionField,
      String runTag,
      boolean replaceAll,
      String stem,
      List<String> own,
      DeadLetterSink deadLetterSink,
      @Nullable Rules rules,
      @Nullable Transform transform) {
    Schema schema = transform == null ? planned.avro().schema() : transform.output();
    Lakehouse.Table table = Lakehouse.of(options.getOutput(), options, schema, partitionField);
    LocalDirectory.checkWritable("warehouse", table.home());
    List<String> keys = keys(options, connection);
    for (String key : keys) {
      if (schema.getField(key) == null) {
        throw new IllegalArgumentException(
            "--keyFields: '" + key + "' is not a column of " + planned.label());
      }
    }
    String staging = table.home() + "/pending-" + UUID.randomUUID();
    LakeTarget lake = table.target(staging, stem);
    // A full refresh (or the first export) writes every row, replacing this export's files; an
    // incremental export merges its changed rows by key (or appends them, replacing only a rerun
    // of the same range).
    String deleted = options.getDeletedColumn();
    if (deleted != null) {
      Schema.Field field = schema.getField(deleted);
      if (field == null || AvroTypes.nonNull(field.schema()).getType() != Schema.Type.BOOLEAN) {
        throw new IllegalArgumentException(
            "--deletedColumn="
                + deleted
                + " must be a boolean column of "
                + planned.label()
                + (field == null ? ", and it has none of that name" : ""));
      }
    }
    if (!keys.isEmpty() && schema.getField(watermark) == null) {
      throw new IllegalArgumentException(
          "a merge by key orders versions by --watermarkColumn "
              + watermark
              + ", which the transform's rows ("
              + schema.getFullName()
              + ") do not keep: keep it in the output");
    }
    LakeSink sink;
    if (keys.isEmpty() || replaceAll) {
      sink = new LakeSink.Append(lake);
    } else {
      MergeIcebergRows merge =
          MergeIcebergRows.staged(
              table.catalog(),
              table.name(),
              table.schemaJson(),
              keys,
              watermark,
              NAME,
              stem,
              staging.replaceAll("/+$", "") + "/" + LakePublisher.FILE_LIST);
      sink = new LakeSink.Merge(lake, deleted == null ? merge : merge.withDeletes(deleted));
    }
    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put("table", options.getOutput());
    outputs.put("watermark range", "(" + planned.low() + ", " + planned.high() + "]");
    outputs.put("dead letters", deadLetterSink.location());
    RunPlan run = table.run(true, outputs, options, rules);
    Map<String, String> summary = new LinkedHashMap<>();
    summary.put("sluice.export", export);
    if (planned.committed() != null) {
      summary.put(TableWatermarks.key(export), planned.committed());
    }
    run =
        table
            .withCommit(
                run,
                NAME,
                staging,
                keys.isEmpty() || replaceAll
                    ? own.stream().map(o -> o.substring(0, o.length() - 1)).toList()
                    : List.of(),
                runTag,
                rules != null && rules.gates(),
                null,
                summary)
            .withCleanup(new Steps.DiscardStaging(staging));
    return new Plan(run, connection, planned, sink, rules, deadLetterSink, deleted, transform);
  }

  /** The merge keys: --keyFields, else the source table's primary key (none for a query). */
  private static List<String> keys(JdbcToLakeOptions options, JdbcConnection connection) {
    if (options.getKeyFields() != null) {
      return options.getKeyFields().stream().map(String::strip).toList();
    }
    if (options.getTable() == null) {
      return List.of();
    }
    try {
      return connection.withDirect(c -> TableCheck.primaryKey(c, options.getTable()));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Cannot read the primary key of " + options.getTable() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<LineageDataset> lineageInputs(Plan plan) {
    String schema = plan.read().avro().schema().toString();
    return List.of(
        plan.read().label().equals("query")
            ? new LineageDataset(
                LineageDataset.postgres(plan.connection(), "query", null).namespace(),
                "query",
                schema)
            : LineageDataset.postgres(plan.connection(), plan.read().label(), schema));
  }

  @Override
  public List<LineageDataset> lineageOutputs(Plan plan) {
    LakeTarget lake = plan.sink().lake();
    String schema = plan.sinkSchema().toString();
    LineageDataset output =
        lake.table() == null
            ? LineageDataset.files(lake.publishedAt(), schema)
            : LineageDataset.iceberg(
                lake.publishedAt(), lake.catalog().uri(), lake.table(), schema);
    if (plan.transform() != null) {
      output = plan.transform().withColumnLineage(output, lineageInputs(plan).get(0));
    }
    return List.of(output, plan.deadLetters().lineageDataset());
  }

  @Override
  public void build(Pipeline pipeline, Plan plan) {
    build(pipeline, plan, ReadRanges.of(plan.connection(), plan.read(), NAME));
  }

  /**
   * The graph of {@code plan} with its read given: the plan's own in a run, another in tests of the
   * graph alone (the lake and the dead letters are files).
   */
  public static void build(
      Pipeline pipeline, Plan plan, PTransform<PBegin, Result<Traced<GenericRecord>>> read) {
    DeadLetterRouting.Collector deadLetters =
        DeadLetterRouting.register(pipeline, Accounting.of(NAME), plan.deadLetters().writer());
    Result<Traced<GenericRecord>> rows = pipeline.apply("ReadJdbc", read);
    deadLetters.add(rows.deadLetters());
    PCollection<Traced<GenericRecord>> records = rows.output();
    if (plan.rules() != null) {
      records = plan.rules().apply(records, deadLetters, false);
    }
    if (plan.transform() != null) {
      records = plan.transform().apply(records, deadLetters, NAME);
    }
    if (plan.deletedColumn() != null && plan.sink() instanceof LakeSink.Append) {
      // A full export leaves soft-deleted rows out (a merge removes their keys instead).
      records =
          records
              .apply("DropDeleted", ParDo.of(new DropDeletedFn(plan.deletedColumn())))
              .setCoder(records.getCoder());
    }
    plan.sink().write(records, plan.sinkSchema(), NAME);
    deadLetters.close();
  }

  /** Leaves out the rows whose boolean {@code column} is true, counting them filtered. */
  static final class DropDeletedFn extends DoFn<Traced<GenericRecord>, Traced<GenericRecord>> {
    private final String column;
    private final Accounting accounting = Accounting.of(NAME);

    DropDeletedFn(String column) {
      this.column = column;
    }

    @ProcessElement
    public void process(
        @Element Traced<GenericRecord> row, OutputReceiver<Traced<GenericRecord>> out) {
      if (Boolean.TRUE.equals(row.value().get(column))) {
        accounting.filtered(MergeIcebergRows.DELETED);
      } else {
        out.output(row);
      }
    }
  }
}

package dev.sluice.pipelines.filestolake;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.deadletter.FileDeadLetters;
import dev.sluice.io.files.FileListing;
import dev.sluice.io.files.LakeNames;
import dev.sluice.io.files.LocalDirectory;
import dev.sluice.io.files.ReadLines;
import dev.sluice.io.files.WriteLake;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.pipelines.options.Durations;
import dev.sluice.pipelines.options.SchemaChangeOptions;
import dev.sluice.pipelines.plan.DeadLetterSinks;
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
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.ParseRecords;
import dev.sluice.transforms.parse.RecordParser;
import dev.sluice.transforms.parse.SchemaChanges;
import dev.sluice.transforms.pii.Pii;
import dev.sluice.transforms.pii.PiiKeysSource;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
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
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;

/**
 * files-to-lake: reads CSV or JSON-lines files matching a glob, parses each line against a schema,
 * dead-letters the lines that do not decode, parse, fit or pass the rules, and writes the rest as
 * Avro files partitioned by date.
 */
public final class FilesToLake implements SluicePipeline<FilesToLakeOptions, FilesToLake.Plan> {
  public static final String NAME = "files-to-lake";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "CSV or JSON-lines files into date-partitioned Avro lake files, with dead letters";
  }

  @Override
  public String lineage() {
    return "Reads the files matching --input (CSV with a header row, or JSON lines), parses each"
        + " line against schema --schema, dead-letters the lines that are not UTF-8, do not parse,"
        + " do not fit the schema or fail an error rule of --rules to --deadLetter, and writes the"
        + " rest as Avro files under"
        + " --output/dt=<date of --partitionField>/.";
  }

  @Override
  public Class<FilesToLakeOptions> optionsClass() {
    return FilesToLakeOptions.class;
  }

  /**
   * What a files-to-lake run does, decided before it starts.
   *
   * @param run the run's own part; a staged run's step publishes the staged files
   * @param schema the schema lines are parsed into
   * @param format how lines are encoded
   * @param input the glob read
   * @param read how the input is read: the files listed when the run was planned, the glob matched
   *     as the run goes, the glob watched, or a replay's dead letters
   * @param allowEmptyInput whether a glob matching nothing is an empty run rather than an error
   * @param maxLineBytes the longest line read; longer ones are dead letters
   * @param excluded the run's own output and dead-letter directories, never read as input
   * @param lake where the files are written
   * @param rules the checked rules, or null
   * @param deadLetters the checked dead-letter sink, named after the run's input
   * @param piiKeys the keys of the contract's personal-data policies, or null when it has none
   */
  public record Plan(
      RunPlan run,
      Schema schema,
      InputFormat format,
      String input,
      Read read,
      boolean allowEmptyInput,
      int maxLineBytes,
      List<String> excluded,
      LakeTarget lake,
      @Nullable Rules rules,
      DeadLetterSink deadLetters,
      @Nullable Transform transform,
      SchemaChanges.Policy onSchemaChange,
      @Nullable PiiKeysSource piiKeys)
      implements SluicePipeline.Plan {
    /** The schema of the rows the lake receives: the transform's output, or the records'. */
    public Schema sinkSchema() {
      return transform == null ? PiiPolicy.published(schema) : transform.output();
    }

    @Override
    public Map<String, String> personalData() {
      return PersonalData.applied(schema);
    }

    /** The replay whose dead letters the run reads, or null when it reads files. */
    public @Nullable Replay replay() {
      return read instanceof Read.Replayed replayed ? replayed.replay() : null;
    }

    /** How often a watching run looks for new files, or null when the run is bounded. */
    public @Nullable Duration watch() {
      return read instanceof Read.Watched watched ? watched.every() : null;
    }
  }

  /** How a run reads its input. */
  public sealed interface Read extends Serializable {
    /** The files a staged run listed when it was planned, read as these byte ranges in parallel. */
    record Listed(List<String> files, List<ReadLines.FileRange> ranges) implements Read {
      public Listed {
        files = List.copyOf(files);
        ranges = List.copyOf(ranges);
      }
    }

    /** The glob, matched as the run goes (a remote lake, a template). */
    record Matched() implements Read {}

    /** The glob, watched every {@code every}; a file is read once unchanged for {@code settle}. */
    record Watched(Duration every, Duration settle) implements Read {}

    /** The dead letters a replay selected, in place of the files. */
    record Replayed(Replay replay) implements Read {}
  }

  @Override
  public Optional<String> needsLauncher(FilesToLakeOptions options) {
    boolean staged =
        options.getWatch() == null
            && (options.getOutput().startsWith("iceberg:") || !options.getOutput().contains("://"));
    return staged
        ? Optional.of(
            "a bounded run into a local lake lists its input files when it starts and publishes"
                + " the staged files after it succeeded: only a launcher can do that. Write to a"
                + " remote lake (gs://...), or use the Flex Template")
        : Optional.empty();
  }

  @Override
  public Plan plan(FilesToLakeOptions options) {
    return plan(options, null);
  }

  /**
   * A replay: the selected dead letters (CSV lines with their file's header) go through parse and
   * rules into lake files of their own, {@code part-replay-<tag>-*}, published like a run's; the
   * input files are not read.
   */
  @Override
  public Plan planReplay(FilesToLakeOptions options, Replay replay) {
    if (options.getWatch() != null) {
      throw new IllegalArgumentException("a replay is bounded: leave out --watch");
    }
    return plan(options, replay);
  }

  private Plan plan(FilesToLakeOptions options, @Nullable Replay replay) {
    Schema contract = SchemaChoice.of(options.getSchema(), options.getSchemaFile());
    InputFormat format =
        options.getFormat() == null ? InputFormat.CSV : options.getFormat().input();
    SchemaChangeOptions.checkLakeAddColumns(
        options,
        options.getOutput(),
        format,
        options.getSql() != null || options.getTransform() != null);
    boolean addColumns = options.getOnSchemaChange() == SchemaChanges.Policy.add_columns;
    // The columns earlier add_columns runs added to the table are part of the contract now.
    Schema schema =
        addColumns
            ? SchemaChanges.withColumns(
                contract, Lakehouse.addedColumns(options.getOutput(), options))
            : contract;
    DeadLetterSink checkedSink = DeadLetterSinks.from(options);
    Duration watch = Durations.parse("watch", options.getWatch());
    String partitionField =
        options.getPartitionField() == null ? "created_at" : options.getPartitionField();
    // Personal data is tokenized, hashed, masked or dropped right after parsing: the rules, the
    // transform and the lake see the published schema.
    PiiKeysSource piiKeys = PersonalData.forContract(schema, options);
    Schema published = PiiPolicy.published(schema);
    Transform transform = Transform.plan(options, published, null, Map.of(), true);
    // The lake holds the transform's rows when there is one: its contract is the lake's.
    Schema rows = transform == null ? published : transform.output();
    WriteLake.checkPartitionField(rows, partitionField);
    Lakehouse.Table table = Lakehouse.of(options.getOutput(), options, rows, partitionField);
    String home = table == null ? options.getOutput().replaceAll("/+$", "") + "/_sluice" : null;
    String report =
        options.getRunReport() != null
            ? options.getRunReport()
            : (table == null ? home : table.home()) + "/run-report.json";
    if (addColumns) {
      table =
          table.withAddColumns(
              NAME, contract, SchemaChangeOptions.candidateDirectory(options, report));
    }
    LocalDirectory.checkWritable(
        table == null ? "output" : "warehouse", table == null ? options.getOutput() : table.home());
    // Bounded runs into a local lake or a table are write-audit-publish: files are staged (or
    // written where no reader sees them), and published (with a _SUCCESS manifest) or committed
    // only when the run accounted for every record and its quality gate is open.
    boolean staged = watch == null && (table != null || !options.getOutput().contains("://"));
    // Where the run keeps its own files: the lake directory, or the table's folder in the
    // warehouse.
    String output = table == null ? options.getOutput().replaceFirst("^file:", "") : table.home();
    String staging =
        table == null
            ? Path.of(output).resolve("_sluice/staging-" + UUID.randomUUID()).toString()
            : output + "/pending-" + UUID.randomUUID();
    // A replay's records come from many input files: its lake files are named after the replay.
    String replayStem = replay == null ? null : LakeNames.stem("replay-" + replay.tag());
    LakeTarget lake =
        table == null
            ? new LakeTarget(
                    staged ? staging : options.getOutput(),
                    options.getOutput(),
                    partitionField,
                    options.getNumShards(),
                    replayStem)
                .withFileFormat(options.getFileFormat())
            : watch != null
                ? table.streaming(NAME, options.getInput())
                : table.target(staging, replayStem);
    Rules rules = Rules.load(options, published, NAME);
    // A staged run reads the files its glob matches when it starts, and names what it writes
    // after them: its lake files after each input file, its dead-letter file after the set. Other
    // runs (a remote lake, a template, watching) match the glob as they run, and name their
    // dead-letter file after the glob.
    // The run's own output and dead letters are never its input, whatever the glob covers.
    List<String> excluded = new ArrayList<>(List.of(table == null ? output : table.warehouse()));
    if (checkedSink instanceof FileDeadLetters files) {
      excluded.add(files.directory());
    }
    List<FileListing.Listed> listed =
        staged && replay == null ? planInputs(options, excluded) : null;
    List<String> inputs =
        listed == null ? null : listed.stream().map(FileListing.Listed::path).toList();
    DeadLetterSink deadLetterSink =
        checkedSink.forRun(
            replay != null
                ? "replay-" + replay.tag()
                : inputs != null
                    ? LakeNames.tag(inputs)
                    : watch == null ? LakeNames.tag(options.getInput()) : null);

    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put("lake", options.getOutput());
    outputs.put("dead letters", deadLetterSink.location());
    if (replay != null) {
      outputs.put("replayed from", replay.from());
    }
    if (addColumns) {
      outputs.put("candidate contracts", table.addColumns().candidate().directory());
    }
    if (home == null) {
      home = output;
    }
    RunPlan run =
        RunPlan.of(watch == null, outputs, report)
            .withQuality(rules)
            .withHistory(
                options.getRunHistory() != null ? options.getRunHistory() : home + "/history");
    if (staged) {
      LinkedHashMap<String, Object> manifest = new LinkedHashMap<>();
      if (!PiiPolicy.of(schema).isEmpty()) {
        manifest.put("personal_data", PersonalData.applied(schema));
      }
      List<String> own;
      if (replay != null) {
        manifest.put("replayed_from", replay.from());
        manifest.put("replayed_records", replay.records().size());
        own = List.of(replayStem + "-");
      } else {
        manifest.put("input", options.getInput());
        manifest.put("input_files", List.copyOf(inputs));
        // This run replaces what earlier runs wrote for the same input files, nothing else.
        own = inputs.stream().map(f -> LakeNames.ofInputFile(f) + "-").toList();
      }
      // A file that changed while the run read it was still being written: nothing of the run
      // is published.
      RunPlan.Step unchanged = listed == null ? null : new Steps.CheckInputsUnchanged(listed);
      if (table == null) {
        run =
            (unchanged == null ? run : run.withOnSuccess(unchanged))
                .withOnSuccess(
                    new Steps.PublishLake(NAME, rows.toString(), staging, output, own, manifest));
      } else {
        run =
            table.withCommit(
                run,
                NAME,
                staging,
                own.stream().map(o -> o.substring(0, o.length() - 1)).toList(),
                replay != null
                    ? "replay-" + replay.tag()
                    : LakeNames.tag(inputs == null ? List.of() : inputs),
                rules != null && rules.gates(),
                unchanged);
      }
      run = run.withCleanup(new Steps.DiscardStaging(staging));
    }
    if (replay != null) {
      run = run.withOnSuccess(replay.mark());
    }
    Read read =
        replay != null
            ? new Read.Replayed(replay)
            : listed != null
                ? new Read.Listed(inputs, ReadLines.planRanges(listed, options.getReadSplitBytes()))
                : watch != null
                    ? new Read.Watched(
                        watch, Durations.parse("settleTime", options.getSettleTime()))
                    : new Read.Matched();
    return new Plan(
        run,
        schema,
        format,
        options.getInput(),
        read,
        options.getAllowEmptyInput(),
        options.getMaxLineBytes(),
        List.copyOf(excluded),
        lake,
        rules,
        deadLetterSink,
        transform,
        options.getOnSchemaChange(),
        piiKeys);
  }

  @Override
  public void build(Pipeline pipeline, Plan plan) {
    DeadLetterRouting.Collector deadLetters =
        DeadLetterRouting.register(
            pipeline,
            Accounting.of(NAME),
            plan.replay() == null
                ? plan.deadLetters().writer()
                : plan.replay().deadLetters(plan.deadLetters().writer()),
            Pii.of(plan.schema(), plan.piiKeys()));
    RecordParser parser = RecordParser.of(plan.schema(), plan.format());
    ReadLines read =
        (plan.read() instanceof Read.Listed listed
                ? ReadLines.ofRanges(listed.ranges(), NAME)
                : ReadLines.matching(plan.input(), NAME))
            .withHeader(plan.format().hasHeader())
            .withHeaderCheck(parser::headerProblem)
            .withEmptyMatchAllowed(plan.allowEmptyInput())
            .excluding(plan.excluded())
            .withMaxLineBytes(plan.maxLineBytes());
    // The reader waits for the writer of the same run when it is far behind (bounded memory).
    String progress = UUID.randomUUID().toString();
    if (plan.lake().writesPerBundle()) {
      read = read.withProgressOf(progress);
    }
    PCollection<SourceRecord> lines;
    if (plan.read() instanceof Read.Replayed replayed) {
      lines = pipeline.apply("ReadDeadLetters", replayed.replay().read(NAME));
    } else if (plan.read() instanceof Read.Watched watched) {
      Result<SourceRecord> files =
          pipeline.apply(
              "ReadFiles",
              read.withWatchInterval(watched.every()).withSettleTime(watched.settle()));
      deadLetters.add(
          files
              .deadLetters()
              .apply("WindowDeadLetters", Window.into(FixedWindows.of(watched.every()))));
      lines = files.output().apply("Window", Window.into(FixedWindows.of(watched.every())));
    } else {
      Result<SourceRecord> files = pipeline.apply("ReadFiles", read);
      deadLetters.add(files.deadLetters());
      lines = files.output();
    }
    Result<Traced<GenericRecord>> parsed =
        lines.apply(
            "Parse",
            ParseRecords.of(
                    plan.onSchemaChange() == SchemaChanges.Policy.add_columns
                        ? SchemaChanges.open(plan.schema())
                        : plan.schema(),
                    plan.format())
                .withSchemaChanges(plan.onSchemaChange())
                .withPii(plan.piiKeys())
                .withPipeline(NAME));
    deadLetters.add(parsed.deadLetters());
    PCollection<Traced<GenericRecord>> records = parsed.output();
    if (plan.rules() != null) {
      records = plan.rules().apply(records, deadLetters, plan.watch() != null);
    }
    if (plan.transform() != null) {
      records = plan.transform().apply(records, deadLetters, NAME);
    }
    records = plan.lake().withNewColumns(records, deadLetters);
    if (plan.replay() != null && plan.replay().dryRun()) {
      records.apply("WriteLake", Replay.dryWrite(NAME));
    } else {
      records.apply("WriteLake", plan.lake().transform(plan.sinkSchema(), NAME, progress));
    }
    deadLetters.close();
  }

  @Override
  public List<LineageDataset> lineageInputs(Plan plan) {
    return List.of(
        plan.replay() != null
            ? plan.replay().store().lineageDataset()
            : LineageDataset.files(plan.input(), plan.schema().toString()));
  }

  @Override
  public List<LineageDataset> lineageOutputs(Plan plan) {
    String rows = plan.sinkSchema().toString();
    LineageDataset lake =
        plan.lake().table() == null
            ? LineageDataset.files(plan.lake().publishedAt(), rows)
            : LineageDataset.iceberg(
                plan.lake().publishedAt(), plan.lake().catalog().uri(), plan.lake().table(), rows);
    if (plan.transform() != null) {
      lake = plan.transform().withColumnLineage(lake, lineageInputs(plan).get(0));
    }
    lake = PersonalData.withColumnLineage(lake, lineageInputs(plan).get(0), plan.schema());
    return List.of(lake, plan.deadLetters().lineageDataset());
  }

  private static List<FileListing.Listed> planInputs(
      FilesToLakeOptions options, List<String> excluded) {
    try {
      return ReadLines.plan(options.getInput(), options.getAllowEmptyInput(), excluded);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Cannot list --input " + options.getInput() + ": " + e.getMessage(), e);
    }
  }
}

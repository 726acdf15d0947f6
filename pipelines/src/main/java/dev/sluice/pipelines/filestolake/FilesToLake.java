package dev.sluice.pipelines.filestolake;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.files.LakeNames;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.LocalDirectory;
import dev.sluice.io.files.ReadLines;
import dev.sluice.io.files.WriteLake;
import dev.sluice.pipelines.core.DeadLetterSinks;
import dev.sluice.pipelines.core.Durations;
import dev.sluice.pipelines.core.LakeManifest;
import dev.sluice.pipelines.core.Rules;
import dev.sluice.pipelines.core.RunPlan;
import dev.sluice.pipelines.core.SluicePipeline;
import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.ParseRecords;
import dev.sluice.transforms.parse.RecordParser;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;

/**
 * files-to-lake: reads CSV or JSON-lines files matching a glob, parses each line against a schema,
 * dead-letters the lines that do not decode, parse, fit or pass the rules, and writes the rest as
 * Avro files partitioned by date.
 */
public final class FilesToLake implements SluicePipeline<FilesToLakeOptions> {
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

  @Override
  public RunPlan build(Pipeline pipeline, FilesToLakeOptions options) {
    Schema schema = Schemas.byName(options.getSchema());
    InputFormat format =
        InputFormat.parse(options.getFormat() == null ? "csv" : options.getFormat());
    DeadLetterSink checkedSink = DeadLetterSinks.from(options);
    LocalDirectory.checkWritable("output", options.getOutput());
    Duration watch = Durations.parse("watch", options.getWatch());
    // Bounded runs into a local lake are write-audit-publish: files are staged, and published (with
    // a _SUCCESS manifest) only when the run accounted for every record and its quality gate is
    // open.
    boolean staged = watch == null && !options.getOutput().contains("://");
    Path output = Path.of(options.getOutput().replaceFirst("^file:", ""));
    Path staging = output.resolve("_sluice/staging-" + UUID.randomUUID());
    WriteLake lake =
        WriteLake.to(staged ? staging.toString() : options.getOutput(), schema, NAME)
            .partitionedBy(
                options.getPartitionField() == null ? "created_at" : options.getPartitionField())
            .withNumShards(options.getNumShards())
            .publishedAt(options.getOutput());
    Rules rules = Rules.load(options, schema, NAME);
    // A staged run reads the files its glob matches when it starts, and names what it writes
    // after them: its lake files after each input file, its dead-letter file after the set. Other
    // runs (a remote lake, a template, watching) match the glob as they run, and name their
    // dead-letter file after the glob.
    List<String> inputs = staged ? planInputs(options) : null;
    DeadLetterSink deadLetterSink =
        checkedSink.forRun(
            inputs != null
                ? LakeNames.tag(inputs)
                : watch == null ? LakeNames.tag(options.getInput()) : null);

    RecordParser parser = RecordParser.of(schema, format);
    ReadLines read =
        (inputs == null
                ? ReadLines.matching(options.getInput(), NAME)
                : ReadLines.files(inputs, NAME).splittingAt(options.getReadSplitBytes()))
            .withHeader(format.hasHeader())
            .withHeaderCheck(parser::headerProblem)
            .allowingEmptyMatch(options.getAllowEmptyInput());
    DeadLetterRouting.Collector deadLetters =
        DeadLetterRouting.register(pipeline, Accounting.of(NAME), deadLetterSink.writer());

    PCollection<SourceRecord> lines;
    if (watch == null) {
      lines = pipeline.apply("ReadFiles", read);
    } else {
      lines =
          pipeline
              .apply("ReadFiles", read.watching(watch))
              .apply("Window", Window.into(FixedWindows.of(watch)));
    }
    Result<KV<SourceRecord, GenericRecord>> parsed =
        lines.apply("Parse", ParseRecords.of(schema, format).forPipeline(NAME));
    deadLetters.add(parsed.deadLetters());
    PCollection<KV<SourceRecord, GenericRecord>> records = parsed.output();
    if (rules != null) {
      records = rules.apply(records, deadLetters, watch != null);
    }
    records.apply("WriteLake", lake);
    deadLetters.close();

    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put("lake", options.getOutput());
    outputs.put("dead letters", deadLetterSink.location());
    String report =
        options.getRunReport() != null
            ? options.getRunReport()
            : options.getOutput().replaceAll("/+$", "") + "/_sluice/run-report.json";
    RunPlan.OnSuccess publish =
        !staged
            ? null
            : summary -> {
              Map<String, Object> manifest = LakeManifest.of(NAME, schema, summary);
              manifest.put("input", options.getInput());
              manifest.put("input_files", inputs);
              // This run replaces what earlier runs wrote for the same input files, nothing else.
              List<String> own = inputs.stream().map(f -> LakeNames.ofInputFile(f) + "-").toList();
              LakePublisher.publish(staging, output, own, manifest);
            };
    return new RunPlan(watch == null, outputs, report, publish).withQuality(rules);
  }

  private static List<String> planInputs(FilesToLakeOptions options) {
    try {
      return ReadLines.plan(options.getInput(), options.getAllowEmptyInput());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(
          "Cannot list --input " + options.getInput() + ": " + e.getMessage(), e);
    }
  }
}

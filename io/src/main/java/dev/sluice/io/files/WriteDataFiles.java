package dev.sluice.io.files;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.KafkaOrigin;
import dev.sluice.transforms.core.Progress;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.MimeTypes;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Instant;

/**
 * Writes records as data files, without grouping them first: each bundle writes one file per
 * partition and stem (the stem names what the records belong to, such as their input file) and
 * closes its files when it ends, so memory holds a few open files, not the run's records, and rows
 * reach files as they are read. The files are invisible until a commit makes them part of the lake
 * or table: each bundle's files are listed in {@code <list directory>/<uuid>.files}, and only the
 * outputs of bundles the runner kept reach that list (a retried bundle's files are not listed), so
 * the commit ({@link #listed}) takes exactly the files of the run. Each record written counts as
 * {@code written}.
 */
public final class WriteDataFiles
    extends PTransform<PCollection<Traced<GenericRecord>>, PCollection<WrittenFile>> {
  private final FileSink sink;
  private final @Nullable String listDirectory;
  private final String pipeline;
  private final String lineage;
  private final SerializableFunction<SourceRecord, String> stem;
  private final @Nullable String runId;

  private WriteDataFiles(
      FileSink sink,
      @Nullable String listDirectory,
      String pipeline,
      String lineage,
      SerializableFunction<SourceRecord, String> stem,
      @Nullable String runId) {
    this.sink = sink;
    this.listDirectory = listDirectory;
    this.pipeline = pipeline;
    this.lineage = lineage;
    this.stem = stem;
    this.runId = runId;
  }

  /**
   * Records into {@code sink}'s files, listed under {@code listDirectory}; {@code pipeline} names
   * the counters and {@code lineage} the sink for lineage ({@code file:/data/lake}, {@code
   * iceberg:...}).
   */
  public static WriteDataFiles to(
      FileSink sink, String listDirectory, String pipeline, String lineage) {
    checkArgument(sink != null, "sink must not be null");
    checkArgument(
        listDirectory != null && !listDirectory.isBlank(), "listDirectory must be a directory");
    return new WriteDataFiles(
        sink, listDirectory, pipeline, lineage, LakeNames::inputFileStem, null);
  }

  /**
   * Records into {@code sink}'s files, not listed anywhere: what becomes of them is the next
   * step's, from this transform's output (a streaming run's commit per window).
   */
  public static WriteDataFiles unlisted(FileSink sink, String pipeline, String lineage) {
    checkArgument(sink != null, "sink must not be null");
    return new WriteDataFiles(sink, null, pipeline, lineage, LakeNames::inputFileStem, null);
  }

  /** The stem of each record's files, from its source (default: its input file's). */
  public WriteDataFiles withStem(SerializableFunction<SourceRecord, String> stem) {
    checkArgument(stem != null, "stem must not be null");
    return new WriteDataFiles(sink, listDirectory, pipeline, lineage, stem, runId);
  }

  /** Records written count as accepted in this run's {@code Progress} (the reader waits on it). */
  public WriteDataFiles withProgressOf(String runId) {
    checkArgument(runId != null && !runId.isBlank(), "runId must not be blank");
    return new WriteDataFiles(sink, listDirectory, pipeline, lineage, stem, runId);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("sink", lineage))
        .add(DisplayData.item("format", sink.getClass().getSimpleName()))
        .addIfNotNull(DisplayData.item("listedIn", listDirectory));
  }

  @Override
  public PCollection<WrittenFile> expand(PCollection<Traced<GenericRecord>> records) {
    PCollection<WrittenFile> written =
        records
            .apply(
                "WriteFiles",
                ParDo.of(
                    new WriteFn(
                        sink,
                        stem,
                        Accounting.of(pipeline),
                        lineage,
                        runId == null ? null : Progress.of(pipeline, runId, 0, "lines"))))
            .setCoder(SerializableCoder.of(WrittenFile.class));
    if (listDirectory == null) {
      return written;
    }
    list(written, listDirectory);
    return written;
  }

  /** Lists {@code written} under {@code listDirectory}, for the step that commits or publishes. */
  public static void list(PCollection<WrittenFile> written, String listDirectory) {
    // Only the outputs of bundles the runner kept pass the shuffle: those are the run's files. A
    // few keys, not one per file: the Direct runner handles each key's group as a bundle of its
    // own.
    written
        .apply("KeptFiles", Reshuffle.<WrittenFile>viaRandomKey().withNumBuckets(16))
        .apply("ListFiles", ParDo.of(new ListFn(listDirectory)));
  }

  /** The files listed under {@code listDirectory}, each once, by path. */
  public static List<WrittenFile> listed(String listDirectory) throws IOException {
    String dir = listDirectory.endsWith("/") ? listDirectory : listDirectory + "/";
    MatchResult match = FileSystems.match(dir + "*.files", EmptyMatchTreatment.ALLOW);
    Set<WrittenFile> files = new LinkedHashSet<>();
    if (match.status() == MatchResult.Status.OK) {
      for (MatchResult.Metadata list : match.metadata()) {
        try (var reader =
            new BufferedReader(
                new InputStreamReader(
                    Channels.newInputStream(FileSystems.open(list.resourceId())),
                    StandardCharsets.UTF_8))) {
          String line;
          while ((line = reader.readLine()) != null) {
            if (!line.isBlank()) {
              files.add(WrittenFile.fromJson(line));
            }
          }
        }
      }
    }
    return new ArrayList<>(files);
  }

  /**
   * Files a bundle keeps open at once, at most: when a new one is needed, the one written least
   * recently is closed (a file's records come together, file after file, so that one is done).
   */
  static final int MAX_OPEN_FILES = 32;

  /**
   * Per bundle: one open file per window, partition, stem and layout, closed when the bundle ends.
   */
  static final class WriteFn extends DoFn<Traced<GenericRecord>, WrittenFile> {
    private final FileSink sink;
    private final SerializableFunction<SourceRecord, String> stem;
    private final Accounting accounting;
    private final String lineage;
    private final @Nullable Progress progress;
    private transient Map<List<Object>, Open> open;

    WriteFn(
        FileSink sink,
        SerializableFunction<SourceRecord, String> stem,
        Accounting accounting,
        String lineage,
        @Nullable Progress progress) {
      this.sink = sink;
      this.stem = stem;
      this.accounting = accounting;
      this.lineage = lineage;
      this.progress = progress;
    }

    /**
     * An open file, with the window and timestamp its description is emitted in, and the highest
     * Kafka offset of each partition its records came from.
     */
    private record Open(
        FileSink.OpenFile file,
        BoundedWindow window,
        Instant timestamp,
        Map<String, Long> highest) {
      WrittenFile close() throws IOException {
        WrittenFile closed = file.close();
        return highest.isEmpty() ? closed : closed.withPositions(highest);
      }

      void read(String origin) {
        KafkaOrigin position = KafkaOrigin.parse(origin);
        if (position != null) {
          highest.merge(position.partitionKey(), position.offset(), Math::max);
        }
      }
    }

    @Setup
    public void setup() throws IOException {
      sink.setup();
    }

    @StartBundle
    public void startBundle() {
      open = new LinkedHashMap<>(16, 0.75f, true);
    }

    @ProcessElement
    public void process(
        @Element Traced<GenericRecord> record,
        BoundedWindow window,
        @Timestamp Instant timestamp,
        OutputReceiver<WrittenFile> out)
        throws IOException {
      GenericRecord value = record.value();
      String partition = sink.partition(value);
      String of = stem.apply(record.source());
      List<Object> key = List.of(window, partition, of, sink.layout());
      Open file = open.get(key);
      if (file == null) {
        if (open.isEmpty()) {
          int colon = lineage.indexOf(':');
          ReportLineage.report(false, lineage.substring(0, colon), lineage.substring(colon + 1));
        }
        if (open.size() >= MAX_OPEN_FILES) {
          closeLeastRecent(window, out);
        }
        file = new Open(sink.open(partition, of), window, timestamp, new HashMap<>());
        open.put(key, file);
      }
      file.file().write(value);
      file.read(record.source().origin());
      accounting.written().inc();
      if (progress != null) {
        progress.accepted(1);
        progress.written(1);
      }
    }

    /** Closes the open file of {@code window} written least recently, and emits it. */
    private void closeLeastRecent(BoundedWindow window, OutputReceiver<WrittenFile> out)
        throws IOException {
      var entries = open.entrySet().iterator();
      while (entries.hasNext()) {
        Map.Entry<List<Object>, Open> eldest = entries.next();
        if (eldest.getValue().window().equals(window)) {
          entries.remove();
          out.output(eldest.getValue().close());
          return;
        }
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) throws IOException {
      for (Open file : open.values()) {
        context.output(file.close(), file.timestamp(), file.window());
      }
      open = null;
    }

    @Teardown
    public void teardown() {
      sink.teardown();
    }
  }

  /** Writes the files of each bundle it is given to a list file of its own. */
  static final class ListFn extends DoFn<WrittenFile, Void> {
    private final String directory;
    private transient List<WrittenFile> files;

    ListFn(String directory) {
      this.directory = directory.endsWith("/") ? directory : directory + "/";
    }

    @StartBundle
    public void startBundle() {
      files = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element WrittenFile file) {
      files.add(file);
    }

    @FinishBundle
    public void finishBundle() throws IOException {
      if (files.isEmpty()) {
        return;
      }
      String name = directory + UUID.randomUUID() + ".files";
      var partial = FileSystems.matchNewResource(name + ".partial", false);
      try (OutputStream out =
          Channels.newOutputStream(FileSystems.create(partial, MimeTypes.TEXT))) {
        for (WrittenFile file : files) {
          out.write((file.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
      // Whole or not at all: a list is only read under its final name.
      FileSystems.rename(List.of(partial), List.of(FileSystems.matchNewResource(name, false)));
    }
  }
}

package dev.sluice.io.deadletter;

import dev.sluice.io.files.LocalDirectory;
import dev.sluice.io.lineage.LineageDataset;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.io.AvroIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.MimeTypes;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Dead-letter files under a directory ({@code file:<dir>}): JSON lines ({@code json}, the default)
 * or Avro. Bounded output is one file with a deterministic name ({@code dead-letters-<run
 * tag>-00000-of-00001.jsonl}), empty when nothing failed, so a rerun of the same input replaces its
 * previous dead letters rather than leaving them behind, while other inputs' dead letters stay;
 * streaming output is a file per {@link DeadLetterSink#FILE_FLUSH}. A replay's marks are a ledger
 * file per replay run, {@code <dir>/_replayed/<run>.jsonl}, listing the replayed dead letters'
 * keys.
 */
public record FileDeadLetters(
    String directory, DeadLetterSink.Format format, @Nullable String runTag)
    implements DeadLetterSink {
  @Override
  public DeadLetterSink forRun(@Nullable String tag) {
    DeadLetterSink.super.forRun(tag);
    return new FileDeadLetters(directory, format, tag);
  }

  private String dir() {
    return directory.replaceAll("/+$", "");
  }

  @Override
  public void checkReachable() {
    LocalDirectory.checkWritable("deadLetter", "file:" + directory);
  }

  @Override
  public String location() {
    return "file:" + directory;
  }

  @Override
  public LineageDataset lineageDataset() {
    return LineageDataset.files(directory, DeadLetter.getClassSchema().toString());
  }

  @Override
  public List<Held> held(ReplayFilter filter) throws IOException {
    Set<String> replayed = new HashSet<>();
    for (MatchResult.Metadata ledger : match(dir() + "/_replayed/*.jsonl")) {
      for (String line : lines(ledger)) {
        if (!line.isBlank()) {
          replayed.add(ReplayLedger.JSON.readTree(line).get("dead_letter").asText());
        }
      }
    }
    List<DeadLetter> all = new ArrayList<>();
    for (MatchResult.Metadata file : match(dir() + "/dead-letters*")) {
      String name = file.resourceId().getFilename();
      if (name.endsWith(".avro")) {
        try (InputStream in = Channels.newInputStream(FileSystems.open(file.resourceId()));
            DataFileStream<DeadLetter> avro =
                new DataFileStream<>(in, new SpecificDatumReader<>(DeadLetter.class))) {
          avro.forEach(all::add);
        }
      } else {
        int number = 0;
        for (String line : lines(file)) {
          number++;
          if (line.isBlank()) {
            continue;
          }
          try {
            all.add(DeadLetterJson.fromJson(line));
          } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                "--from=file:"
                    + directory
                    + ": "
                    + name
                    + " line "
                    + number
                    + " is no dead letter: "
                    + e.getMessage(),
                e);
          }
        }
      }
    }
    return ReplayLedger.select(all, filter, replayed);
  }

  @Override
  public void markReplayed(List<String> keys, String runId) throws IOException {
    String location = dir() + "/_replayed/" + runId + ".jsonl";
    Instant now = Instant.now();
    try (OutputStream out =
        Channels.newOutputStream(
            FileSystems.create(FileSystems.matchNewResource(location, false), MimeTypes.TEXT))) {
      for (String key : keys) {
        out.write(ReplayLedger.line(key, runId, now).getBytes(StandardCharsets.UTF_8));
        out.write('\n');
      }
    }
  }

  @Override
  public String replayLedger() {
    return "file:" + dir() + "/_replayed/<run>.jsonl";
  }

  private static List<MatchResult.Metadata> match(String glob) throws IOException {
    List<MatchResult.Metadata> files =
        new ArrayList<>(FileSystems.match(glob, EmptyMatchTreatment.ALLOW).metadata());
    files.sort(Comparator.comparing(m -> m.resourceId().toString()));
    return files;
  }

  private static List<String> lines(MatchResult.Metadata file) throws IOException {
    try (BufferedReader reader =
        new BufferedReader(
            Channels.newReader(FileSystems.open(file.resourceId()), StandardCharsets.UTF_8))) {
      return reader.lines().toList();
    }
  }

  @Override
  public PTransform<PCollection<DeadLetter>, ? extends POutput> writer() {
    return new Write(this);
  }

  /** Writes the files. */
  static final class Write extends DeadLetterSink.Writer<FileDeadLetters> {
    Write(FileDeadLetters sink) {
      super(sink);
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder
          .add(DisplayData.item("format", sink.format().name()))
          .addIfNotNull(DisplayData.item("runTag", sink.runTag()));
    }

    @Override
    public POutput expand(PCollection<DeadLetter> input) {
      PCollection<DeadLetter> deadLetters =
          input.apply("Lineage", ReportLineage.sink("file", sink.directory()));
      boolean windowed = deadLetters.isBounded() == PCollection.IsBounded.UNBOUNDED;
      if (windowed) {
        // Streaming: a file of the dead letters gathered every FILE_FLUSH, whatever the windowing
        // of the steps that produced them.
        deadLetters =
            deadLetters.apply(
                "EveryFlush",
                Window.<DeadLetter>into(new GlobalWindows())
                    .triggering(
                        Repeatedly.forever(
                            AfterProcessingTime.pastFirstElementInPane()
                                .plusDelayOf(DeadLetterSink.FILE_FLUSH)))
                    .withAllowedLateness(Duration.ZERO)
                    .discardingFiredPanes());
      }
      String prefix =
          sink.dir() + "/dead-letters" + (sink.runTag() == null ? "" : "-" + sink.runTag());
      if (sink.format() == DeadLetterSink.Format.AVRO) {
        AvroIO.Write<DeadLetter> write =
            AvroIO.write(DeadLetter.class).to(prefix).withSuffix(".avro").withNumShards(1);
        return deadLetters.apply("WriteAvro", windowed ? write.withWindowedWrites() : write);
      }
      TextIO.Write write = TextIO.write().to(prefix).withSuffix(".jsonl").withNumShards(1);
      return deadLetters
          .apply("ToJson", MapElements.into(TypeDescriptors.strings()).via(DeadLetterJson::toJson))
          .setCoder(StringUtf8Coder.of())
          .apply("WriteJsonLines", windowed ? write.withWindowedWrites() : write);
    }
  }
}

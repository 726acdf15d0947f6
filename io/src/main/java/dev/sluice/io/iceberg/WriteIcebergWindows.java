package dev.sluice.io.iceberg;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.files.LakeNames;
import dev.sluice.io.files.WriteDataFiles;
import dev.sluice.io.files.WrittenFile;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Tally;
import dev.sluice.transforms.core.Traced;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.annotation.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.iceberg.SchemaParser;

/**
 * A streaming write into an Iceberg table: each bundle writes Parquet data files (as {@link
 * WriteDataFiles}), and once a window is complete its files become part of the table in one commit.
 * The commit's id names the pipeline, the table, the run and the window (and pane), and is kept in
 * the snapshot summary: a commit retried after it landed finds its id in the table's history and
 * adds nothing (the Flink Iceberg sink's approach, with windows for checkpoints).
 *
 * <p>A commit replaces the table's files of the same input files written by other runs (a watch
 * restarted reads its inputs again: their rows are replaced, not doubled), never the files this run
 * wrote in earlier windows. The output is one line per commit, saying what it did.
 */
public final class WriteIcebergWindows
    extends PTransform<PCollection<Traced<GenericRecord>>, PCollection<String>> {
  /** What each commit did, one line each. */
  static final TupleTag<String> DONE = new TupleTag<>("done") {};

  private final IcebergFiles files;
  private final Commits commits;

  /**
   * Where and how a run's windows are committed.
   *
   * @param run letters and digits naming this run's files and commits
   * @param schemaJson the schema the files are written with (its new columns are added by the first
   *     commit), or null for the table's
   * @param summary properties every commit's snapshot summary carries
   */
  record Commits(
      IcebergCatalog catalog,
      String table,
      String pipeline,
      String run,
      @Nullable String schemaJson,
      LinkedHashMap<String, String> summary,
      @Nullable Positions positions)
      implements Serializable {
    Commits with(@Nullable String schema, LinkedHashMap<String, String> properties) {
      return new Commits(catalog, table, pipeline, run, schema, properties, positions);
    }
  }

  /**
   * What a stream's commits record of where their records came from: the summary key of one Kafka
   * topic's next offsets ({@link TableOffsets}), and what to do once a commit holding them landed
   * (commit them for the consumer group).
   */
  public record Positions(String topic, String summaryKey, AfterCommit after)
      implements Serializable {}

  /** Called once a window's commit landed (or had landed already), with its next offsets. */
  public interface AfterCommit extends Serializable {
    void committed(Map<Integer, Long> next) throws Exception;
  }

  private final SerializableFunction<SourceRecord, String> stem;

  private WriteIcebergWindows(
      IcebergFiles files, Commits commits, SerializableFunction<SourceRecord, String> stem) {
    this.files = files;
    this.commits = commits;
    this.stem = stem;
  }

  private WriteIcebergWindows(IcebergFiles files, Commits commits) {
    this(files, commits, LakeNames::inputFileStem);
  }

  /**
   * Records into {@code table} of {@code catalog}, committed per window; {@code pipeline} names the
   * counters, {@code run} (letters and digits) this run's files and commits.
   */
  public static WriteIcebergWindows to(
      IcebergCatalog catalog, String table, String pipeline, String run) {
    checkArgument(run != null && run.matches("[A-Za-z0-9]+"), "run must be letters and digits");
    return new WriteIcebergWindows(
        IcebergFiles.of(catalog, table),
        new Commits(catalog, table, pipeline, run, null, new LinkedHashMap<>(), null));
  }

  /**
   * A stream of events rather than of input files: every file is named {@code <stem>-<run>-...} and
   * no commit replaces another run's files (there is no input to read again), and each commit
   * records {@code positions}' next offsets in its summary, then hands them to its {@code after}.
   */
  public WriteIcebergWindows ofEvents(String stem, Positions positions) {
    checkArgument(stem != null && !stem.isBlank(), "stem must not be blank");
    return new WriteIcebergWindows(
        files,
        new Commits(
            commits.catalog(),
            commits.table(),
            commits.pipeline(),
            commits.run(),
            commits.schemaJson(),
            commits.summary(),
            positions),
        source -> stem);
  }

  /** Files written with {@code schema} (JSON), whose new columns the first commit adds. */
  public WriteIcebergWindows withSchema(String schemaJson) {
    return new WriteIcebergWindows(
        files.withSchema(SchemaParser.fromJson(schemaJson)),
        commits.with(schemaJson, commits.summary()),
        stem);
  }

  /**
   * Files that follow the table's columns as {@code --onSchemaChange=add_columns} adds them ({@link
   * IcebergFiles#withAddColumns}).
   */
  public WriteIcebergWindows withAddColumns() {
    return new WriteIcebergWindows(files.withAddColumns(), commits, stem);
  }

  /** Properties every commit's snapshot summary carries (contract, inputs). */
  public WriteIcebergWindows withSummary(Map<String, String> properties) {
    return new WriteIcebergWindows(
        files, commits.with(commits.schemaJson(), new LinkedHashMap<>(properties)), stem);
  }

  @Override
  public PCollection<String> expand(PCollection<Traced<GenericRecord>> records) {
    String suffix = "-" + commits.run();
    SerializableFunction<SourceRecord, String> of = stem;
    PCollectionTuple committed =
        records
            .apply(
                "WriteDataFiles",
                WriteDataFiles.unlisted(files, commits.pipeline(), "iceberg:" + commits.table())
                    .withStem(source -> of.apply(source) + suffix))
            .apply("ByTable", WithKeys.of(commits.table()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(WrittenFile.class)))
            .apply("WindowFiles", GroupByKey.create())
            .apply(
                "Commit",
                ParDo.of(new CommitFn(commits)).withOutputTags(DONE, TupleTagList.of(Tally.TAG)));
    Tally.count(committed);
    return committed.get(DONE).setCoder(StringUtf8Coder.of());
  }

  /**
   * Commits a window's files in one snapshot. Its input is stable ({@link RequiresStableInput}): on
   * Flink a pane reaches it only once a checkpoint holding the pane completed, and a restore from
   * that checkpoint gives it the same pane again, whose commit id the table has if it landed. (Were
   * the pane made again after a restore, it could hold more or fewer records under the same id.)
   */
  static final class CommitFn extends DoFn<KV<String, Iterable<WrittenFile>>, String> {
    private final Commits target;

    CommitFn(Commits target) {
      this.target = target;
    }

    @ProcessElement
    @RequiresStableInput
    public void process(
        @Element KV<String, Iterable<WrittenFile>> element,
        BoundedWindow window,
        PaneInfo pane,
        MultiOutputReceiver out)
        throws IOException {
      Tally tally = Tally.of(target.pipeline());
      out.get(DONE).output(commit(element.getValue(), window, pane, tally));
      out.get(Tally.TAG).output(tally);
    }

    /** As {@link #commit(Iterable, BoundedWindow, PaneInfo, Tally)}, its counts left out. */
    String commit(Iterable<WrittenFile> written, BoundedWindow window, PaneInfo pane)
        throws IOException {
      return commit(written, window, pane, Tally.of(target.pipeline()));
    }

    /**
     * Commits {@code written}, the files of {@code window}'s {@code pane}, counting into {@code
     * tally}; what it did.
     */
    String commit(Iterable<WrittenFile> written, BoundedWindow window, PaneInfo pane, Tally tally)
        throws IOException {
      List<WrittenFile> files = new ArrayList<>();
      written.forEach(files::add);
      files.sort(Comparator.comparing(WrittenFile::path));
      String suffix = "-" + target.run();
      Set<String> stems = new LinkedHashSet<>();
      long rows = 0;
      for (WrittenFile file : files) {
        String stem = file.stem();
        stems.add(
            stem.endsWith(suffix) ? stem.substring(0, stem.length() - suffix.length()) : stem);
        rows += file.records();
      }
      List<String> keep = stems.stream().map(s -> s + suffix + "-").toList();
      String id = commitId(target.pipeline(), target.table(), target.run(), window, pane);
      Map<String, String> properties = new LinkedHashMap<>(target.summary());
      properties.put("sluice.pipeline", target.pipeline());
      properties.put("sluice.run", target.run());
      properties.put("sluice.window", window.toString());
      properties.put("sluice.written", String.valueOf(rows));
      Positions positions = target.positions();
      Map<Integer, Long> next = positions == null ? Map.of() : next(files, positions.topic());
      if (!next.isEmpty()) {
        properties.put(positions.summaryKey(), TableOffsets.format(next));
      }
      IcebergCommit.Committed done =
          IcebergCommit.commit(
              target.catalog(),
              target.table(),
              new IcebergCommit.Change(
                  files,
                  positions == null ? List.copyOf(stems) : List.of(),
                  properties,
                  id,
                  target.schemaJson(),
                  keep),
              null);
      tally.add(IcebergCommit.COMMITS, 1).add(IcebergCommit.REPEATED, done.repeated() ? 1 : 0);
      if (!next.isEmpty()) {
        try {
          positions.after().committed(next);
        } catch (Exception e) {
          throw new IOException(
              "commit " + id + " landed, and its offsets could not be committed: " + e, e);
        }
      }
      return id
          + " -> snapshot "
          + done.snapshotId()
          + (done.repeated()
              ? " (committed already)"
              : " (+"
                  + done.added()
                  + " file(s), "
                  + done.records()
                  + " row(s); -"
                  + done.removed()
                  + " replaced)");
    }
  }

  /** The next offset of each partition of {@code topic}: one past the highest the files hold. */
  static Map<Integer, Long> next(List<WrittenFile> files, String topic) {
    Map<String, Long> highest = new TreeMap<>();
    for (WrittenFile file : files) {
      file.positions().forEach((key, offset) -> highest.merge(key, offset, Math::max));
    }
    return next(highest, topic);
  }

  /** The next offset of each partition of {@code topic}, from the highest of each partition. */
  static Map<Integer, Long> next(Map<String, Long> highest, String topic) {
    Map<Integer, Long> next = new TreeMap<>();
    String prefix = topic + "/";
    highest.forEach(
        (key, offset) -> {
          if (key.startsWith(prefix)) {
            next.merge(Integer.parseInt(key.substring(prefix.length())), offset + 1, Math::max);
          }
        });
    return next;
  }

  /** The id of the commit of {@code window}'s {@code pane} of {@code run}. */
  static String commitId(
      String pipeline, String table, String run, BoundedWindow window, PaneInfo pane) {
    return pipeline + "/" + table + "/" + run + "/" + window + "/" + pane.getIndex();
  }
}

package dev.sluice.io.files;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.Progress;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.Contextful;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Requirements;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.Watch;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Reads every file matching a glob, one {@link SourceRecord} per line: the line's bytes untouched
 * and its origin {@code file:<real path>#<line>}. A line ends at LF, CRLF or a lone CR (files from
 * old Mac tools); the line break itself is not part of the record. With a header, the first line of
 * each file is the header and travels with each of the file's records. With {@link #watching} it
 * keeps matching the glob and reads each new file once (unbounded), once it has settled.
 *
 * <p>Files are listed by {@link FileListing}: each real file once (symbolic links resolved, loops
 * stepped over), never a file under the run's own output or dead-letter trees. Many files are read
 * as a few groups, each read file after file, so that a run over 20,000 small files costs about
 * what one file of the same lines costs, not 20,000 units of per-element overhead.
 *
 * <p>Compression is recognised by the file's first bytes, not by its name: gzip and bzip2 are
 * decompressed whatever the file is called; zstd, xz and zip archives fail the run, naming the
 * file. Every byte of a file is accounted for: each one belongs to a line, a line break, the header
 * or a leading byte-order mark, and a file where that does not add up fails the run. A file whose
 * size changed between listing and reading fails the run, naming it: it was still being written. A
 * line longer than {@link #withMaxLineBytes} is a dead letter (reason {@code parse}) holding its
 * first bytes, not a reason to run out of memory. A header the {@link #withHeaderCheck check}
 * refuses (not UTF-8, unknown columns, binary data) is not taken as a header: every line of that
 * file, the first included, is emitted for the parse step to dead-letter, so no line of a file
 * vanishes into a bad header.
 */
@AutoValue
public abstract class ReadLines extends PTransform<PBegin, Result<SourceRecord>> {
  private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  /** The step name of this transform's dead letters. */
  public static final String STEP = "Read";

  /** Lines longer than this are dead letters unless told otherwise: 64 MiB. */
  public static final int DEFAULT_MAX_LINE_BYTES = 64 << 20;

  /**
   * Whole files are read in groups of about this many bytes, each group's files one after another
   * in one step: a group is the unit of parallelism, and of a bundle (what the Direct runner holds
   * at once), so 20,000 small files are a few steps, and a large file is a group of its own.
   */
  static final long GROUP_BYTES = 64L << 20;

  /**
   * Files in one group, at most: a splittable read keeps its element in state and copies it at each
   * checkpoint, so a group of 20,000 files would cost 20,000 copies of 20,000 names.
   */
  static final int GROUP_FILES = 200;

  /** Above this many files, lineage names their directories rather than each file. */
  static final int LINEAGE_FILES = 100;

  abstract @Nullable String glob();

  abstract @Nullable List<FileRange> ranges();

  abstract String pipeline();

  abstract boolean header();

  abstract @Nullable SerializableFunction<byte[], String> headerCheck();

  abstract @Nullable Duration watchInterval();

  abstract Duration settleTime();

  abstract boolean allowEmpty();

  abstract List<String> excluded();

  abstract int maxLineBytes();

  abstract @Nullable String runId();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setGlob(@Nullable String glob);

    abstract Builder setRanges(@Nullable List<FileRange> ranges);

    abstract Builder setPipeline(String pipeline);

    abstract Builder setHeader(boolean header);

    abstract Builder setHeaderCheck(@Nullable SerializableFunction<byte[], String> check);

    abstract Builder setWatchInterval(@Nullable Duration interval);

    abstract Builder setSettleTime(Duration settle);

    abstract Builder setAllowEmpty(boolean allow);

    abstract Builder setExcluded(List<String> excluded);

    abstract Builder setMaxLineBytes(int bytes);

    abstract Builder setRunId(@Nullable String runId);

    abstract ReadLines build();
  }

  private static Builder builder(String pipeline) {
    checkArgument(
        pipeline != null && !pipeline.isBlank(), "pipeline must be a name, but was %s", pipeline);
    return new AutoValue_ReadLines.Builder()
        .setPipeline(pipeline)
        .setHeader(false)
        .setAllowEmpty(false)
        .setSettleTime(Duration.standardSeconds(10))
        .setExcluded(List.of())
        .setMaxLineBytes(DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * Lines of the files matching {@code glob} as the run goes, counted as read under {@code
   * pipeline}.
   */
  public static ReadLines matching(String glob, String pipeline) {
    checkArgument(glob != null && !glob.isBlank(), "glob must not be empty, but was %s", glob);
    return builder(pipeline).setGlob(glob).build();
  }

  /**
   * Lines of exactly these ranges of files (as {@link #planRanges} cut them when the run was
   * planned), counted as read under {@code pipeline}.
   */
  public static ReadLines ofRanges(List<FileRange> ranges, String pipeline) {
    checkArgument(ranges != null, "ranges must not be null");
    return builder(pipeline).setRanges(List.copyOf(ranges)).build();
  }

  /**
   * The files a glob matches now, sorted, each once by its real path, none under {@code excluded}
   * (see {@link FileListing}): a bounded run reads exactly these, and names its output after them.
   *
   * @throws IllegalArgumentException naming the glob when it matches nothing and {@code allowEmpty}
   *     is false
   */
  public static List<FileListing.Listed> plan(
      String glob, boolean allowEmpty, List<String> excluded) throws IOException {
    checkArgument(glob != null && !glob.isBlank(), "glob must not be empty, but was %s", glob);
    List<FileListing.Listed> found = FileListing.list(glob, excluded);
    if (found.isEmpty() && !allowEmpty) {
      throw new IllegalArgumentException(
          "--input " + glob + " matches no file (use --allowEmptyInput to succeed with none)");
    }
    return found;
  }

  /** The first line of each file is a header: it is not a record, and rides along with each. */
  public ReadLines withHeader(boolean header) {
    return toBuilder().setHeader(header).build();
  }

  /**
   * Judges each file's header line: the check returns what is wrong with it, or null when it is a
   * valid header. A file whose header is refused has all its lines emitted as records.
   */
  public ReadLines withHeaderCheck(SerializableFunction<byte[], String> check) {
    checkArgument(check != null, "headerCheck must not be null");
    return toBuilder().setHeaderCheck(check).build();
  }

  /** Keeps matching the glob every {@code interval}, reading each new file once it settled. */
  public ReadLines withWatchInterval(Duration interval) {
    checkArgument(
        interval != null && interval.isLongerThan(Duration.ZERO),
        "watchInterval must be positive, but was %s",
        interval);
    checkArgument(glob() != null, "watching needs a glob, not planned ranges");
    return toBuilder().setWatchInterval(interval).build();
  }

  /**
   * Watching: a file is read once it has not changed for this long and ends with a line break (a
   * compressed file: once it has not changed for this long); until then it is looked at again at
   * each poll. Default 10 s.
   */
  public ReadLines withSettleTime(Duration settle) {
    checkArgument(
        settle != null && !settle.isShorterThan(Duration.ZERO),
        "settleTime must be >= 0, but was %s",
        settle);
    return toBuilder().setSettleTime(settle).build();
  }

  /** Whether a glob matching no file is fine (otherwise a bounded read fails, naming the glob). */
  public ReadLines withEmptyMatchAllowed(boolean allow) {
    return toBuilder().setAllowEmpty(allow).build();
  }

  /**
   * Directories whose files are never read, whatever the glob (the run's own output and dead
   * letters, so that a glob covering them never reads the lake back).
   */
  public ReadLines excluding(List<String> directories) {
    checkArgument(directories != null, "excluded directories must not be null");
    return toBuilder().setExcluded(List.copyOf(directories)).build();
  }

  /**
   * Reads count toward the progress of this run ({@link Progress}), and a reader waits before each
   * file or range while the sink (whose writes count as accepted under the same run) is far behind:
   * a runner that queues whatever it is given (Direct) then holds a bounded number of lines.
   */
  public ReadLines withProgressOf(String runId) {
    checkArgument(runId != null && !runId.isBlank(), "runId must not be blank");
    return toBuilder().setRunId(runId).build();
  }

  /** Records a reader lets be read and not yet written before it waits for the sink. */
  static final long MAX_IN_FLIGHT = 50_000;

  /** Lines longer than this are dead-lettered with their first {@code bytes} bytes. */
  public ReadLines withMaxLineBytes(int bytes) {
    checkArgument(bytes > 0, "maxLineBytes must be > 0, but was %s", bytes);
    return toBuilder().setMaxLineBytes(bytes).build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .addIfNotNull(DisplayData.item("input", glob()))
        .add(DisplayData.item("header", header()))
        .add(DisplayData.item("allowEmpty", allowEmpty()))
        .add(DisplayData.item("maxLineBytes", maxLineBytes()));
    if (ranges() != null) {
      builder.add(DisplayData.item("ranges", ranges().size()));
    }
    if (watchInterval() != null) {
      builder
          .add(DisplayData.item("watchInterval", watchInterval()))
          .add(DisplayData.item("settleTime", settleTime()));
    }
  }

  /** What every reading DoFn needs. */
  record Spec(
      boolean header,
      @Nullable SerializableFunction<byte[], String> headerCheck,
      Accounting accounting,
      DeadLetters deadLetters,
      int maxLineBytes,
      boolean lineagePerFile,
      @Nullable Progress progress)
      implements Serializable {
    /** Whether the sink is far behind what was read (and still taking records). */
    boolean behind() {
      return progress != null && progress.behind(MAX_IN_FLIGHT, 5_000);
    }
  }

  private Spec spec(boolean lineagePerFile) {
    return new Spec(
        header(),
        headerCheck(),
        Accounting.of(pipeline()),
        DeadLetters.forStep(pipeline(), STEP),
        maxLineBytes(),
        lineagePerFile,
        runId() == null ? null : Progress.of(pipeline(), runId(), 0, "lines"));
  }

  @Override
  public Result<SourceRecord> expand(PBegin input) {
    TupleTag<SourceRecord> lines = new TupleTag<>() {};
    TupleTag<DeadLetter> failed = new TupleTag<>() {};
    if (ranges() != null) {
      return expandRanges(input, lines, failed);
    }
    if (watchInterval() != null) {
      PCollection<RangeGroup> groups =
          input
              .apply("Glob", Create.of(glob()))
              .apply(
                  "Watch",
                  Watch.growthOf(
                          Contextful.of(
                              new SettledFiles(excluded(), settleTime()), Requirements.empty()),
                          new PathOf())
                      .withPollInterval(watchInterval())
                      .withTerminationPerInput(Watch.Growth.never())
                      .withOutputCoder(FileRange.CODER)
                      .withOutputKeyCoder(StringUtf8Coder.of()))
              .apply("Files", Values.create())
              .apply("OneByOne", ParDo.of(new SingleGroupFn()))
              .setCoder(RangeGroup.CODER);
      return readGroups(groups, spec(true), lines, failed);
    }
    PCollection<RangeGroup> groups =
        input
            .apply("Glob", Create.of(glob()))
            .apply("ListFiles", ParDo.of(new ListFn(excluded(), allowEmpty())))
            .setCoder(RangeGroup.CODER)
            .apply("SpreadFiles", Reshuffle.viaRandomKey());
    return readGroups(groups, spec(false), lines, failed);
  }

  /** A range's path: the key under which watching reads a file once. */
  static final class PathOf implements SerializableFunction<FileRange, String> {
    @Override
    public String apply(FileRange range) {
      return range.path();
    }
  }

  /** A piece of an input file: the lines that start in bytes {@code [start, end)}. */
  public record FileRange(
      String path, int index, int count, long start, long end, long size, long firstLine)
      implements Serializable {
    /** A range of a file whose size is not known (nothing checks it did not change). */
    public FileRange(String path, int index, int count, long start, long end) {
      this(path, index, count, start, end, -1);
    }

    /** A range whose first line number is known once the ranges before it are counted. */
    public FileRange(String path, int index, int count, long start, long end, long size) {
      this(path, index, count, start, end, size, index == 0 ? 1 : 0);
    }

    /** The same range, its first line being line {@code number} of the file. */
    FileRange numbered(long number) {
      return new FileRange(path, index, count, start, end, size, number);
    }

    /** The whole file, read from its first byte (decompressed if it is compressed). */
    boolean whole() {
      return count == 1;
    }

    String key() {
      return path + "#" + index;
    }

    /** The whole file as listed. */
    static FileRange of(FileListing.Listed file) {
      return new FileRange(file.path(), 0, 1, 0, file.size(), file.size());
    }

    /**
     * Ranges as a few strings and numbers, not Java serialization: a splittable read copies its
     * element at every checkpoint, and a group holds hundreds of them.
     */
    static final Coder<FileRange> CODER =
        new AtomicCoder<>() {
          @Override
          public void encode(FileRange range, OutputStream out) throws IOException {
            StringUtf8Coder.of().encode(range.path(), out);
            VarLongCoder.of().encode((long) range.index(), out);
            VarLongCoder.of().encode((long) range.count(), out);
            VarLongCoder.of().encode(range.start(), out);
            VarLongCoder.of().encode(range.end(), out);
            VarLongCoder.of().encode(range.size() + 1, out);
            VarLongCoder.of().encode(range.firstLine(), out);
          }

          @Override
          public FileRange decode(InputStream in) throws IOException {
            return new FileRange(
                StringUtf8Coder.of().decode(in),
                VarLongCoder.of().decode(in).intValue(),
                VarLongCoder.of().decode(in).intValue(),
                VarLongCoder.of().decode(in),
                VarLongCoder.of().decode(in),
                VarLongCoder.of().decode(in) - 1,
                VarLongCoder.of().decode(in));
          }
        };
  }

  /** Whole files one reader reads, one after another. */
  record RangeGroup(List<FileRange> ranges) implements Serializable {
    static final Coder<RangeGroup> CODER =
        new AtomicCoder<>() {
          private final Coder<List<FileRange>> list = ListCoder.of(FileRange.CODER);

          @Override
          public void encode(RangeGroup group, OutputStream out) throws IOException {
            list.encode(group.ranges(), out);
          }

          @Override
          public RangeGroup decode(InputStream in) throws IOException {
            return new RangeGroup(list.decode(in));
          }
        };

    /**
     * The ranges in order, packed into groups of at most {@code bytes} bytes and {@link
     * #GROUP_FILES} ranges each (a larger file is a group of its own); none for no range.
     */
    static List<RangeGroup> bySize(List<FileRange> ranges, long bytes) {
      List<RangeGroup> groups = new ArrayList<>();
      List<FileRange> group = new ArrayList<>();
      long size = 0;
      for (FileRange range : ranges) {
        long length = Math.max(1, range.end() - range.start());
        if (!group.isEmpty() && (size + length > bytes || group.size() == GROUP_FILES)) {
          groups.add(new RangeGroup(group));
          group = new ArrayList<>();
          size = 0;
        }
        group.add(range);
        size += length;
      }
      if (!group.isEmpty()) {
        groups.add(new RangeGroup(group));
      }
      return groups;
    }
  }

  /**
   * Each file as ranges of about {@code splitBytes} bytes, read in parallel (compressed files and
   * files no larger whole; 0 never splits); each range's line numbers come from counting the lines
   * of the ranges before it, so origins are the same as when the file is read whole. Reads each
   * file's first bytes: part of planning a run, not of building it.
   */
  public static List<FileRange> planRanges(List<FileListing.Listed> files, long splitBytes) {
    checkArgument(splitBytes >= 0, "split size must be >= 0 bytes, but was %s", splitBytes);
    List<FileRange> ranges = new ArrayList<>();
    for (FileListing.Listed file : files) {
      String path = file.path();
      long size = file.size();
      boolean compressed;
      try (InputStream in =
          Channels.newInputStream(FileSystems.open(FileSystems.matchNewResource(path, false)))) {
        compressed = compression(in.readNBytes(6)) != null;
      } catch (IOException e) {
        throw new IllegalArgumentException("Cannot read " + path + ": " + e.getMessage(), e);
      }
      int count =
          compressed || splitBytes == 0 || size <= splitBytes
              ? 1
              : (int) ((size + splitBytes - 1) / splitBytes);
      for (int i = 0; i < count; i++) {
        ranges.add(
            new FileRange(
                path,
                i,
                count,
                i * splitBytes,
                i == count - 1 ? size : (i + 1) * splitBytes,
                size));
      }
    }
    return ranges;
  }

  /** {@link #planRanges(List, long)} of files given by path, listed now. */
  public static List<FileRange> planRangesOf(List<String> paths, long splitBytes) {
    List<FileListing.Listed> files = new ArrayList<>();
    for (String path : paths) {
      FileListing.Listed file = FileListing.stat(path);
      if (file == null) {
        throw new IllegalArgumentException("Cannot read " + path + ": it does not exist");
      }
      files.add(file);
    }
    return planRanges(files, splitBytes);
  }

  private Result<SourceRecord> expandRanges(
      PBegin input, TupleTag<SourceRecord> lines, TupleTag<DeadLetter> failed) {
    boolean lineagePerFile =
        ranges().stream().map(FileRange::path).distinct().count() <= LINEAGE_FILES;
    Spec spec = spec(lineagePerFile);
    List<FileRange> whole = ranges().stream().filter(FileRange::whole).toList();
    List<FileRange> split = ranges().stream().filter(r -> !r.whole()).toList();
    List<Result<SourceRecord>> parts = new ArrayList<>();
    if (!whole.isEmpty() || split.isEmpty()) {
      PCollection<RangeGroup> groups =
          input
              .apply(
                  "Files",
                  Create.of(RangeGroup.bySize(whole, GROUP_BYTES)).withCoder(RangeGroup.CODER))
              .apply("SpreadFiles", Reshuffle.viaRandomKey());
      parts.add(readGroups(groups, spec, lines, failed));
    }
    if (!split.isEmpty()) {
      // Each range's first line number is the count of the lines of the ranges before it: the
      // ranges are counted in parallel, then numbered file by file.
      PCollection<RangeGroup> numbered =
          input
              .apply("Ranges", Create.of(split).withCoder(FileRange.CODER))
              .apply("SpreadRanges", Reshuffle.viaRandomKey())
              .apply("CountLines", ParDo.of(new CountLinesFn()))
              .setCoder(
                  KvCoder.of(StringUtf8Coder.of(), KvCoder.of(FileRange.CODER, VarLongCoder.of())))
              .apply("ByFile", GroupByKey.create())
              .apply("NumberRanges", ParDo.of(new NumberRangesFn()))
              .setCoder(RangeGroup.CODER)
              .apply("SpreadNumbered", Reshuffle.viaRandomKey());
      TupleTag<SourceRecord> rangeLines = new TupleTag<>() {};
      TupleTag<DeadLetter> rangeFailed = new TupleTag<>() {};
      PCollectionTuple out =
          numbered.apply(
              "ReadRanges",
              ParDo.of(new ReadRangeFn(spec, rangeLines, rangeFailed))
                  .withOutputTags(rangeLines, TupleTagList.of(rangeFailed)));
      out.get(rangeLines).setCoder(SourceRecord.SourceRecordCoder.of());
      out.get(rangeFailed).setCoder(DeadLetters.coder());
      parts.add(Result.of(out, rangeLines, rangeFailed));
    }
    if (parts.size() == 1) {
      return parts.get(0);
    }
    PCollection<SourceRecord> all =
        PCollectionList.of(parts.get(0).output())
            .and(parts.get(1).output())
            .apply("AllLines", Flatten.<SourceRecord>pCollections());
    PCollection<DeadLetter> dead =
        PCollectionList.of(parts.get(0).deadLetters())
            .and(parts.get(1).deadLetters())
            .apply("AllDeadLetters", Flatten.<DeadLetter>pCollections());
    return Result.of(all, dead);
  }

  private static Result<SourceRecord> readGroups(
      PCollection<RangeGroup> groups,
      Spec spec,
      TupleTag<SourceRecord> lines,
      TupleTag<DeadLetter> failed) {
    PCollectionTuple out =
        groups.apply(
            "ReadFiles",
            ParDo.of(new ReadGroupFn(spec, lines, failed))
                .withOutputTags(lines, TupleTagList.of(failed)));
    out.get(lines).setCoder(SourceRecord.SourceRecordCoder.of());
    out.get(failed).setCoder(DeadLetters.coder());
    return Result.of(out, lines, failed);
  }

  /** Lists the glob's files when the run reads them (a run planned without a listing). */
  static final class ListFn extends DoFn<String, RangeGroup> {
    private final List<String> excluded;
    private final boolean allowEmpty;

    ListFn(List<String> excluded, boolean allowEmpty) {
      this.excluded = excluded;
      this.allowEmpty = allowEmpty;
    }

    @ProcessElement
    public void process(@Element String glob, OutputReceiver<RangeGroup> out) throws IOException {
      List<FileRange> files = plan(glob, allowEmpty, excluded).stream().map(FileRange::of).toList();
      RangeGroup.bySize(files, GROUP_BYTES).forEach(out::output);
    }
  }

  /**
   * Watching: the files of a glob that have settled (unchanged for the settle time, ending with a
   * line break), each as a whole-file range; Beam's {@link Watch} emits each path once.
   */
  static final class SettledFiles extends Watch.Growth.PollFn<String, FileRange> {
    private static final org.slf4j.Logger LOG =
        org.slf4j.LoggerFactory.getLogger(SettledFiles.class);
    private final List<String> excluded;
    private final Duration settle;

    SettledFiles(List<String> excluded, Duration settle) {
      this.excluded = excluded;
      this.settle = settle;
    }

    @Override
    public Watch.Growth.PollResult<FileRange> apply(String glob, Context c) throws Exception {
      Instant now = Instant.now();
      List<TimestampedValue<FileRange>> ready = new ArrayList<>();
      for (FileListing.Listed file : FileListing.list(glob, excluded)) {
        if (now.getMillis() - file.modified() < settle.getMillis()) {
          continue; // still being written, perhaps: looked at again next time
        }
        if (!complete(file)) {
          LOG.warn(
              "{} has not changed for {} but its last line has no line break: it is read once it"
                  + " has one",
              file.path(),
              settle);
          continue;
        }
        ready.add(TimestampedValue.of(FileRange.of(file), now));
      }
      return Watch.Growth.PollResult.incomplete(ready).withWatermark(now);
    }

    /** Whether the file ends with a line break (a compressed file: always, its end is checked). */
    static boolean complete(FileListing.Listed file) throws IOException {
      if (file.size() == 0) {
        return true;
      }
      try (var channel = FileSystems.open(FileSystems.matchNewResource(file.path(), false))) {
        ByteBuffer first = ByteBuffer.allocate(6);
        channel.read(first);
        if (compression(Arrays.copyOf(first.array(), first.position())) != null) {
          return true;
        }
        ((SeekableByteChannel) channel).position(file.size() - 1);
        ByteBuffer last = ByteBuffer.allocate(1);
        channel.read(last);
        return last.position() == 1 && (last.get(0) == '\n' || last.get(0) == '\r');
      }
    }
  }

  /** How many lines start in each range of a split file. */
  static final class CountLinesFn extends DoFn<FileRange, KV<String, KV<FileRange, Long>>> {
    @ProcessElement
    public void process(
        @Element FileRange range, OutputReceiver<KV<String, KV<FileRange, Long>>> out)
        throws IOException {
      long[] count = {0};
      RangeLines.scan(range, 1, (line, number, length) -> count[0]++);
      out.output(KV.of(range.path(), KV.of(range, count[0])));
    }
  }

  /** Each range of a file numbered by the lines of the ranges before it, one group each. */
  static final class NumberRangesFn
      extends DoFn<KV<String, Iterable<KV<FileRange, Long>>>, RangeGroup> {
    @ProcessElement
    public void process(
        @Element KV<String, Iterable<KV<FileRange, Long>>> file, OutputReceiver<RangeGroup> out) {
      List<KV<FileRange, Long>> ranges = new ArrayList<>();
      file.getValue().forEach(ranges::add);
      ranges.sort(Comparator.comparingInt(r -> r.getKey().index()));
      long first = 1;
      for (KV<FileRange, Long> range : ranges) {
        out.output(new RangeGroup(List.of(range.getKey().numbered(first))));
        first += range.getValue();
      }
    }
  }

  /** A file a watch found, as a group of its own. */
  static final class SingleGroupFn extends DoFn<FileRange, RangeGroup> {
    @ProcessElement
    public void process(@Element FileRange range, OutputReceiver<RangeGroup> out) {
      out.output(new RangeGroup(List.of(range)));
    }
  }

  /** Where the read lines and dead letters of one file go. */
  interface Emitter {
    void line(SourceRecord record);

    void tooLong(SourceRecord prefix, long length);
  }

  /**
   * Reports a file as read for lineage: the file itself, or its directory when the run reads many
   * files (a lineage of 20,000 names helps no one and costs the runner dearly).
   */
  static void reportLineage(String path, boolean perFile) {
    ResourceId resource = FileSystems.matchNewResource(path, false);
    ResourceId named = perFile ? resource : resource.getCurrentDirectory();
    FileSystems.reportSourceLineage(named);
    if ("file".equals(named.getScheme())) {
      ReportLineage.report(true, "file", named.toString());
    }
  }

  /** Emits to a DoFn's outputs, counting what it reads. */
  static Emitter emitter(
      Spec spec,
      DoFn.MultiOutputReceiver out,
      TupleTag<SourceRecord> lines,
      TupleTag<DeadLetter> failed) {
    return new Emitter() {
      @Override
      public void line(SourceRecord record) {
        spec.accounting().read().inc();
        if (spec.progress() != null) {
          spec.progress().read(1, 0);
        }
        out.get(lines).output(record);
      }

      @Override
      public void tooLong(SourceRecord prefix, long length) {
        spec.accounting().read().inc();
        out.get(failed)
            .output(
                spec.deadLetters()
                    .of(
                        prefix,
                        new RecordException(
                            FailureReason.PARSE,
                            "the line is "
                                + length
                                + " bytes long, over --maxLineBytes="
                                + spec.maxLineBytes()
                                + ": not read; this dead letter holds its first "
                                + prefix.payload().length
                                + " bytes")));
      }
    };
  }

  /** What the readers of groups share: the spec, their two outputs, the line reader. */
  abstract static class ReaderFn extends DoFn<RangeGroup, SourceRecord> {
    final Spec spec;
    final TupleTag<SourceRecord> lines;
    final TupleTag<DeadLetter> failed;
    final SplitLinesFn reader;

    ReaderFn(Spec spec, TupleTag<SourceRecord> lines, TupleTag<DeadLetter> failed) {
      this.spec = spec;
      this.lines = lines;
      this.failed = failed;
      this.reader = new SplitLinesFn(spec);
    }
  }

  /**
   * Reads a group's whole files, one after another, in one step: no checkpoints (on the Direct
   * runner a splittable read checkpoints every 100 lines, and each checkpoint costs the runner
   * bookkeeping over all that is pending), a group being at most {@link #GROUP_BYTES} of input.
   */
  static final class ReadGroupFn extends ReaderFn {
    ReadGroupFn(Spec spec, TupleTag<SourceRecord> lines, TupleTag<DeadLetter> failed) {
      super(spec, lines, failed);
    }

    @ProcessElement
    public void process(@Element RangeGroup group, MultiOutputReceiver out) throws IOException {
      Emitter emit = emitter(spec, out, lines, failed);
      for (FileRange range : group.ranges()) {
        if (range.whole()) {
          reader.readFile(range, emit);
        } else {
          reader.readRange(range, emit);
        }
      }
    }
  }

  /**
   * Reads a numbered piece of a large file. Before it starts it yields while the sink of the same
   * run is far behind: the runner ends the bundle, so what was read is handed on, and comes back
   * later (a runner that queues whatever it is given, such as Direct, then holds a bounded number
   * of lines).
   */
  @DoFn.BoundedPerElement
  static final class ReadRangeFn extends ReaderFn {
    ReadRangeFn(Spec spec, TupleTag<SourceRecord> lines, TupleTag<DeadLetter> failed) {
      super(spec, lines, failed);
    }

    @GetInitialRestriction
    public OffsetRange initialRestriction(@Element RangeGroup group) {
      return new OffsetRange(0, group.ranges().size());
    }

    @GetRestrictionCoder
    public Coder<OffsetRange> restrictionCoder() {
      return OffsetRange.Coder.of();
    }

    @ProcessElement
    public ProcessContinuation process(
        @Element RangeGroup group,
        RestrictionTracker<OffsetRange, Long> tracker,
        MultiOutputReceiver out)
        throws IOException {
      Emitter emit = emitter(spec, out, lines, failed);
      for (long i = tracker.currentRestriction().getFrom(); ; i++) {
        if (spec.behind()) {
          return ProcessContinuation.resume().withResumeDelay(Duration.millis(100));
        }
        if (!tracker.tryClaim(i)) {
          return ProcessContinuation.stop();
        }
        reader.readRange(group.ranges().get((int) i), emit);
      }
    }
  }

  /** Reads a whole file, line after line. */
  static final class SplitLinesFn implements Serializable {
    private final Spec spec;

    SplitLinesFn(Spec spec) {
      this.spec = spec;
    }

    /**
     * Every line of the whole-file range; fails if the file's size is not what was listed (it was
     * being written, or replaced).
     */
    void readFile(FileRange range, Emitter out) throws IOException {
      reportLineage(range.path(), spec.lineagePerFile());
      ResourceId resource = FileSystems.matchNewResource(range.path(), false);
      long read;
      try (CountingInputStream raw =
          new CountingInputStream(Channels.newInputStream(FileSystems.open(resource)))) {
        read(range.path(), raw, out);
        read = raw.count();
      }
      if (range.size() >= 0) {
        // A compressed file's reader may stop before the file's last bytes: its size now counts.
        FileListing.Listed now = FileListing.stat(range.path());
        long size = Math.max(read, now == null ? -1 : now.size());
        if (size != range.size()) {
          throw new IOException(
              range.path()
                  + " changed while it was read: "
                  + range.size()
                  + " bytes when listed, "
                  + (now == null ? "gone" : size + " bytes")
                  + " when read (was it still being written?); the run fails rather than load"
                  + " part of it");
        }
      }
    }

    /** The lines that start in a numbered range of a split file. */
    void readRange(FileRange range, Emitter emit) throws IOException {
      if (range.firstLine() < 1) {
        throw new IllegalStateException(range.key() + " was read before its lines were numbered");
      }
      if (range.index() == 0) {
        reportLineage(range.path(), spec.lineagePerFile());
      }
      byte[] headerLine = null;
      boolean headerRefused = false;
      if (spec.header()) {
        headerLine = RangeLines.firstLine(range.path(), spec.maxLineBytes());
        headerRefused = spec.headerCheck() != null && spec.headerCheck().apply(headerLine) != null;
      }
      String origin = "file:" + range.path() + "#";
      byte[] headerOfFile = headerLine;
      boolean emitHeader = headerRefused;
      RangeLines.scan(
          range,
          spec.maxLineBytes(),
          (line, index, length) -> {
            long number = range.firstLine() + index;
            if (number == 1) {
              line = withoutBom(line);
              if (spec.header() && !emitHeader) {
                return;
              }
            }
            SourceRecord record = new SourceRecord(origin + number, line, null, headerOfFile);
            if (length > line.length && length > spec.maxLineBytes()) {
              emit.tooLong(record, length);
            } else {
              emit.line(record);
            }
          });
    }

    /** Every line of the file at {@code path} whose bytes {@code raw} streams, in order. */
    void read(String path, InputStream raw, Emitter out) throws IOException {
      String origin = "file:" + path;
      try (InputStream in = decompressed(path, raw)) {
        LineReader lines = new LineReader(in, spec.maxLineBytes());
        byte[] headerLine = null;
        boolean headerRefused = false;
        byte[] line;
        while ((line = lines.next()) != null) {
          long length = lines.length();
          if (lines.number() == 1) {
            byte[] stripped = withoutBom(line);
            lines.accountFor(line.length - stripped.length);
            length -= line.length - stripped.length;
            line = stripped;
            if (spec.header() && length == line.length) {
              headerLine = line;
              headerRefused = spec.headerCheck() != null && spec.headerCheck().apply(line) != null;
              if (!headerRefused) {
                lines.accountFor(line.length);
                continue;
              }
            }
          }
          lines.accountFor(length);
          SourceRecord record =
              new SourceRecord(origin + "#" + lines.number(), line, null, headerLine);
          if (length > line.length) {
            out.tooLong(record, length);
          } else {
            out.line(record);
          }
        }
        lines.checkAccounted(path);
      }
    }

    static byte[] withoutBom(byte[] line) {
      if (line.length >= 3 && Arrays.equals(Arrays.copyOf(line, 3), UTF8_BOM)) {
        return Arrays.copyOfRange(line, 3, line.length);
      }
      return line;
    }
  }

  /** An input stream that counts the bytes read through it. */
  static final class CountingInputStream extends FilterInputStream {
    private long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    long count() {
      return count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(n);
      count += skipped;
      return skipped;
    }
  }

  /**
   * The file's content, decompressed when its first bytes are a gzip or bzip2 signature. Formats
   * this reader cannot decompress fail, naming the file, rather than being read as garbage lines.
   */
  static InputStream decompressed(String path, InputStream raw) throws IOException {
    BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
    in.mark(8);
    byte[] magic = in.readNBytes(6);
    in.reset();
    String compression = compression(magic);
    if ("gzip".equals(compression)) {
      return new BufferedInputStream(
          Channels.newInputStream(Compression.GZIP.readDecompressed(Channels.newChannel(in))),
          1 << 16);
    }
    if ("bzip2".equals(compression)) {
      return new BufferedInputStream(
          Channels.newInputStream(Compression.BZIP2.readDecompressed(Channels.newChannel(in))),
          1 << 16);
    }
    if (compression != null) {
      throw new IOException(
          path
              + " is "
              + compression
              + "-compressed, which Sluice does not read: decompress it (gzip and bzip2 are read"
              + " as they are)");
    }
    return in;
  }

  /** The compression a file's first bytes announce (gzip, bzip2, zstd, xz, zip), or null. */
  static String compression(byte[] magic) {
    if (startsWith(magic, 0x1F, 0x8B)) {
      return "gzip";
    }
    if (startsWith(magic, 'B', 'Z', 'h')) {
      return "bzip2";
    }
    return startsWith(magic, 0x28, 0xB5, 0x2F, 0xFD)
        ? "zstd"
        : startsWith(magic, 0xFD, '7', 'z', 'X', 'Z', 0x00)
            ? "xz"
            : startsWith(magic, 'P', 'K', 0x03, 0x04) ? "zip" : null;
  }

  private static boolean startsWith(byte[] bytes, int... signature) {
    if (bytes.length < signature.length) {
      return false;
    }
    for (int i = 0; i < signature.length; i++) {
      if ((bytes[i] & 0xFF) != signature[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Splits a stream into lines at LF, CRLF or a lone CR; a last line without a break still counts.
   * It counts the bytes it consumed and the bytes its caller accounted for (lines, header, BOM; the
   * breaks it accounts for itself), so a caller can prove no byte went missing.
   */
  static final class LineReader {
    private final InputStream in;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final int maxLineBytes;
    private long beyond;
    private long number;
    private boolean done;
    private int peeked = -2;
    private long consumed;
    private long accounted;

    LineReader(InputStream in) {
      this(in, Integer.MAX_VALUE - 16);
    }

    /**
     * Lines kept up to {@code maxLineBytes} bytes; the rest of a longer one is counted, not kept.
     */
    LineReader(InputStream in, int maxLineBytes) {
      this.in = in;
      this.maxLineBytes = maxLineBytes;
    }

    /** The whole length of the last line read, its bytes not kept included. */
    long length() {
      return line.size() + beyond;
    }

    long number() {
      return number;
    }

    private int read() throws IOException {
      int b;
      if (peeked != -2) {
        b = peeked;
        peeked = -2;
      } else {
        b = in.read();
      }
      if (b != -1) {
        consumed++;
      }
      return b;
    }

    byte[] next() throws IOException {
      if (done) {
        return null;
      }
      line.reset();
      beyond = 0;
      int b;
      while ((b = read()) != -1) {
        if (b == '\n') {
          accounted++;
          number++;
          return line.toByteArray();
        }
        if (b == '\r') {
          accounted++;
          peeked = in.read();
          if (peeked == '\n') {
            read();
            accounted++;
          }
          number++;
          return line.toByteArray();
        }
        if (line.size() < maxLineBytes) {
          line.write(b);
        } else {
          beyond++;
        }
      }
      done = true;
      if (line.size() == 0) {
        return null;
      }
      number++;
      return line.toByteArray();
    }

    /** Bytes read from the stream so far (since {@link #resetCount}). */
    long consumed() {
      return consumed;
    }

    /** Forgets what was read so far: counts start again from here. */
    void resetCount() {
      consumed = 0;
      accounted = 0;
      number = 0;
    }

    /**
     * With the stream at the byte just before a range: reads through the break that ends the line
     * in progress there, and returns how many bytes that took, so that the next line read is the
     * first that starts in the range.
     */
    long skipToLineStart() throws IOException {
      int b = read();
      if (b == -1) {
        done = true;
        return 0;
      }
      if (b == '\n') {
        return 1;
      }
      if (b == '\r') {
        peeked = in.read();
        if (peeked == '\n') {
          read();
          return 2;
        }
        return 1;
      }
      long skipped = 1;
      while ((b = read()) != -1) {
        skipped++;
        if (b == '\n') {
          return skipped;
        }
        if (b == '\r') {
          peeked = in.read();
          if (peeked == '\n') {
            read();
            skipped++;
          }
          return skipped;
        }
      }
      done = true;
      return skipped;
    }

    /** The caller has used {@code bytes} bytes of the last line (as a record, header or BOM). */
    void accountFor(long bytes) {
      accounted += bytes;
    }

    /** Fails, naming the file, unless every byte read was accounted for. */
    void checkAccounted(String path) throws IOException {
      if (consumed != accounted) {
        throw new IOException(
            path
                + ": "
                + consumed
                + " bytes were read but only "
                + accounted
                + " are in records, the header or line breaks; the file is not loaded");
      }
    }
  }
}

package dev.sluice.io.files;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.SourceRecord;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.util.Arrays;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.Watch;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.joda.time.Duration;

/**
 * Reads every file matching a glob, one {@link SourceRecord} per line: the line's bytes untouched
 * and its origin {@code file:<path>#<line>}. A line ends at LF, CRLF or a lone CR (files from old
 * Mac tools); the line break itself is not part of the record. With a header, the first line of
 * each file is the header and travels with each of the file's records. With {@link #watching} it
 * keeps matching the glob and reads each new file once (unbounded).
 *
 * <p>Compression is recognised by the file's first bytes, not by its name: gzip and bzip2 are
 * decompressed whatever the file is called; zstd, xz and zip archives fail the run, naming the
 * file. Every byte of a file is accounted for: each one belongs to a line, a line break, the header
 * or a leading byte-order mark, and a file where that does not add up fails the run. A header the
 * {@link #withHeaderCheck check} refuses (not UTF-8, unknown columns, binary data) is not taken as
 * a header: every line of that file, the first included, is emitted for the parse step to
 * dead-letter, so no line of a file vanishes into a bad header.
 */
@AutoValue
public abstract class ReadLines extends PTransform<PBegin, PCollection<SourceRecord>> {
  private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  abstract @Nullable String glob();

  abstract @Nullable List<FileRange> ranges();

  abstract String pipeline();

  abstract boolean header();

  abstract @Nullable SerializableFunction<byte[], String> headerCheck();

  abstract @Nullable Duration watchInterval();

  abstract boolean allowEmpty();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setGlob(@Nullable String glob);

    abstract Builder setRanges(@Nullable List<FileRange> ranges);

    abstract Builder setPipeline(String pipeline);

    abstract Builder setHeader(boolean header);

    abstract Builder setHeaderCheck(@Nullable SerializableFunction<byte[], String> check);

    abstract Builder setWatchInterval(@Nullable Duration interval);

    abstract Builder setAllowEmpty(boolean allow);

    abstract ReadLines build();
  }

  private static Builder builder(String pipeline) {
    checkArgument(
        pipeline != null && !pipeline.isBlank(), "pipeline must be a name, but was %s", pipeline);
    return new AutoValue_ReadLines.Builder()
        .setPipeline(pipeline)
        .setHeader(false)
        .setAllowEmpty(false);
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
   * The files a glob matches now, sorted, as the file system names them: a bounded run reads
   * exactly these, and names its output after them.
   *
   * @throws IllegalArgumentException naming the glob when it matches nothing and {@code allowEmpty}
   *     is false
   */
  public static List<String> plan(String glob, boolean allowEmpty) throws IOException {
    checkArgument(glob != null && !glob.isBlank(), "glob must not be empty, but was %s", glob);
    MatchResult match = FileSystems.match(glob, EmptyMatchTreatment.ALLOW);
    List<String> found = new java.util.ArrayList<>();
    if (match.status() == MatchResult.Status.OK) {
      for (MatchResult.Metadata metadata : match.metadata()) {
        if (!metadata.resourceId().isDirectory()) {
          found.add(metadata.resourceId().toString());
        }
      }
    }
    if (found.isEmpty() && !allowEmpty) {
      throw new IllegalArgumentException(
          "--input " + glob + " matches no file (use --allowEmptyInput to succeed with none)");
    }
    java.util.Collections.sort(found);
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

  /** Keeps matching the glob every {@code interval}, reading each new file once. */
  public ReadLines withWatchInterval(Duration interval) {
    checkArgument(
        interval != null && interval.isLongerThan(Duration.ZERO),
        "watchInterval must be positive, but was %s",
        interval);
    checkArgument(glob() != null, "watching needs a glob, not planned ranges");
    return toBuilder().setWatchInterval(interval).build();
  }

  /** Whether a glob matching no file is fine (otherwise a bounded read fails, naming the glob). */
  public ReadLines withEmptyMatchAllowed(boolean allow) {
    return toBuilder().setAllowEmpty(allow).build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .addIfNotNull(DisplayData.item("input", glob()))
        .add(DisplayData.item("header", header()))
        .add(DisplayData.item("allowEmpty", allowEmpty()));
    if (ranges() != null) {
      builder.add(DisplayData.item("ranges", ranges().size()));
    }
    if (watchInterval() != null) {
      builder.add(DisplayData.item("watchInterval", watchInterval()));
    }
  }

  @Override
  public PCollection<SourceRecord> expand(PBegin input) {
    if (ranges() != null) {
      return expandRanges(input);
    }
    FileIO.Match match = FileIO.match().filepattern(glob());
    if (watchInterval() != null) {
      match =
          match
              .continuously(watchInterval(), Watch.Growth.never())
              .withEmptyMatchTreatment(EmptyMatchTreatment.ALLOW);
    } else {
      match =
          match.withEmptyMatchTreatment(
              allowEmpty() ? EmptyMatchTreatment.ALLOW : EmptyMatchTreatment.DISALLOW);
    }
    PCollection<MatchResult.Metadata> matched = input.apply("Match", match);
    return matched
        // The bytes as stored: compression is recognised from them, not from the file's name.
        .apply("Open", FileIO.readMatches().withCompression(Compression.UNCOMPRESSED))
        .apply(
            "SplitLines",
            ParDo.of(new SplitLinesFn(header(), headerCheck(), Accounting.of(pipeline()))))
        .setCoder(SourceRecord.SourceRecordCoder.of());
  }

  /** A piece of an input file: the lines that start in bytes {@code [start, end)}. */
  public record FileRange(String path, int index, int count, long start, long end)
      implements java.io.Serializable {
    /** The whole file, read from its first byte (decompressed if it is compressed). */
    boolean whole() {
      return count == 1;
    }

    String key() {
      return path + "#" + index;
    }
  }

  /**
   * Each file as ranges of about {@code splitBytes} bytes, read in parallel (compressed files and
   * files no larger whole; 0 never splits); each range's line numbers come from counting the lines
   * of the ranges before it, so origins are the same as when the file is read whole. Reads each
   * file's size and first bytes: part of planning a run, not of building it.
   */
  public static List<FileRange> planRanges(List<String> files, long splitBytes) {
    checkArgument(splitBytes >= 0, "split size must be >= 0 bytes, but was %s", splitBytes);
    List<FileRange> ranges = new java.util.ArrayList<>();
    for (String path : files) {
      long size;
      boolean compressed;
      try {
        size = FileSystems.matchSingleFileSpec(path).sizeBytes();
        try (InputStream in =
            Channels.newInputStream(FileSystems.open(FileSystems.matchNewResource(path, false)))) {
          compressed = compression(in.readNBytes(6)) != null;
        }
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
                path, i, count, i * splitBytes, i == count - 1 ? size : (i + 1) * splitBytes));
      }
    }
    return ranges;
  }

  private PCollection<SourceRecord> expandRanges(PBegin input) {
    PCollection<FileRange> ranges =
        input
            .apply("Ranges", Create.of(ranges()).withCoder(SerializableCoder.of(FileRange.class)))
            .apply("SpreadRanges", Reshuffle.viaRandomKey());
    if (ranges().stream().allMatch(FileRange::whole)) {
      // No file is split: nothing to count before reading, so no side input to wait for.
      return ranges
          .apply(
              "ReadRanges",
              ParDo.of(new ReadRangeFn(header(), headerCheck(), Accounting.of(pipeline()), null)))
          .setCoder(SourceRecord.SourceRecordCoder.of());
    }
    PCollectionView<java.util.Map<String, Long>> lineCounts =
        ranges
            .apply("CountLines", ParDo.of(new CountLinesFn()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()))
            .apply("LineCounts", View.asMap());
    return ranges
        .apply(
            "ReadRanges",
            ParDo.of(
                    new ReadRangeFn(header(), headerCheck(), Accounting.of(pipeline()), lineCounts))
                .withSideInputs(lineCounts))
        .setCoder(SourceRecord.SourceRecordCoder.of());
  }

  /** How many lines start in each range of a split file (whole files need no count). */
  static final class CountLinesFn extends DoFn<FileRange, KV<String, Long>> {
    @ProcessElement
    public void process(@Element FileRange range, OutputReceiver<KV<String, Long>> out)
        throws IOException {
      if (range.whole()) {
        return;
      }
      long[] count = {0};
      RangeLines.scan(range, (line, number) -> count[0]++);
      out.output(KV.of(range.key(), count[0]));
    }
  }

  /** Reads one range: a whole file as before, or the lines that start in its bytes. */
  static final class ReadRangeFn extends DoFn<FileRange, SourceRecord> {
    private final SplitLinesFn whole;
    private final boolean header;
    private final @Nullable SerializableFunction<byte[], String> headerCheck;
    private final Accounting accounting;
    private final @Nullable PCollectionView<java.util.Map<String, Long>> lineCounts;

    ReadRangeFn(
        boolean header,
        @Nullable SerializableFunction<byte[], String> headerCheck,
        Accounting accounting,
        @Nullable PCollectionView<java.util.Map<String, Long>> lineCounts) {
      this.whole = new SplitLinesFn(header, headerCheck, accounting);
      this.header = header;
      this.headerCheck = headerCheck;
      this.accounting = accounting;
      this.lineCounts = lineCounts;
    }

    @ProcessElement
    public void process(ProcessContext context) throws IOException {
      FileRange range = context.element();
      ResourceId resource = FileSystems.matchNewResource(range.path(), false);
      if (range.index() == 0) {
        FileSystems.reportSourceLineage(resource);
        if ("file".equals(resource.getScheme())) {
          ReportLineage.report(true, "file", resource.toString());
        }
      }
      if (range.whole()) {
        try (InputStream raw = Channels.newInputStream(FileSystems.open(resource))) {
          whole.read(range.path(), raw, context::output);
        }
        return;
      }
      java.util.Map<String, Long> counts = context.sideInput(lineCounts);
      long first = 1;
      for (int i = 0; i < range.index(); i++) {
        first += counts.get(range.path() + "#" + i);
      }
      byte[] headerLine = null;
      boolean headerRefused = false;
      if (header) {
        headerLine = RangeLines.firstLine(range.path());
        headerRefused = headerCheck != null && headerCheck.apply(headerLine) != null;
      }
      String origin = "file:" + range.path() + "#";
      long firstNumber = first;
      byte[] headerOfFile = headerLine;
      boolean emitHeader = headerRefused;
      long[] read = {0};
      RangeLines.scan(
          range,
          (line, index) -> {
            long number = firstNumber + index;
            if (number == 1) {
              line = SplitLinesFn.withoutBom(line);
              if (header && !emitHeader) {
                return;
              }
            }
            read[0]++;
            context.output(new SourceRecord(origin + number, line, null, headerOfFile));
          });
      accounting.read().inc(read[0]);
    }
  }

  static final class SplitLinesFn extends DoFn<FileIO.ReadableFile, SourceRecord> {
    private final boolean header;
    private final @Nullable SerializableFunction<byte[], String> headerCheck;
    private final Accounting accounting;

    SplitLinesFn(
        boolean header,
        @Nullable SerializableFunction<byte[], String> headerCheck,
        Accounting accounting) {
      this.header = header;
      this.headerCheck = headerCheck;
      this.accounting = accounting;
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, OutputReceiver<SourceRecord> out)
        throws IOException {
      MatchResult.Metadata metadata = file.getMetadata();
      FileSystems.reportSourceLineage(metadata.resourceId());
      if ("file".equals(metadata.resourceId().getScheme())) {
        ReportLineage.report(true, "file", metadata.resourceId().toString());
      }
      try (InputStream raw = Channels.newInputStream(file.open())) {
        read(metadata.resourceId().toString(), raw, out::output);
      }
    }

    /** Every line of the file at {@code path} whose bytes {@code raw} streams, in order. */
    void read(String path, InputStream raw, java.util.function.Consumer<SourceRecord> out)
        throws IOException {
      String origin = "file:" + path;
      try (InputStream in = decompressed(path, raw)) {
        LineReader lines = new LineReader(in);
        byte[] headerLine = null;
        boolean headerRefused = false;
        byte[] line;
        while ((line = lines.next()) != null) {
          if (lines.number() == 1) {
            line = withoutBom(line, lines);
            if (header) {
              headerLine = line;
              headerRefused = headerCheck != null && headerCheck.apply(line) != null;
              if (!headerRefused) {
                lines.accountFor(line.length);
                continue;
              }
            }
          }
          lines.accountFor(line.length);
          accounting.read().inc();
          out.accept(new SourceRecord(origin + "#" + lines.number(), line, null, headerLine));
        }
        lines.checkAccounted(path);
      }
    }

    private static byte[] withoutBom(byte[] line, LineReader lines) {
      byte[] stripped = withoutBom(line);
      lines.accountFor(line.length - stripped.length);
      return stripped;
    }

    static byte[] withoutBom(byte[] line) {
      if (line.length >= 3 && Arrays.equals(Arrays.copyOf(line, 3), UTF8_BOM)) {
        return Arrays.copyOfRange(line, 3, line.length);
      }
      return line;
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
    private long number;
    private boolean done;
    private int peeked = -2;
    private long consumed;
    private long accounted;

    LineReader(InputStream in) {
      this.in = in;
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
        line.write(b);
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

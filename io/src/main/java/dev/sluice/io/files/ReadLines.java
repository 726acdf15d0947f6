package dev.sluice.io.files;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.sluice.io.lineage.ReportLineage;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.SourceRecord;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.util.Arrays;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Watch;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;

/**
 * Reads every file matching a glob, one {@link SourceRecord} per line: the line's bytes untouched
 * (only the line break, LF or CRLF, is removed) and its origin {@code file:<path>#<line>}. With a
 * header, the first line of each file is the header and travels with each of the file's records.
 * With {@link #watching} it keeps matching the glob and reads each new file once (unbounded).
 * Compressed files are read through Beam's compression detection (e.g. {@code .gz}).
 */
public final class ReadLines extends PTransform<PBegin, PCollection<SourceRecord>> {
  private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  private final String glob;
  private final String pipeline;
  private final boolean header;
  private final @Nullable Duration watchInterval;
  private final boolean allowEmpty;

  private ReadLines(
      String glob,
      String pipeline,
      boolean header,
      @Nullable Duration watchInterval,
      boolean allowEmpty) {
    this.glob = glob;
    this.pipeline = pipeline;
    this.header = header;
    this.watchInterval = watchInterval;
    this.allowEmpty = allowEmpty;
  }

  /** Lines of the files matching {@code glob}, counted as read under {@code pipeline}. */
  public static ReadLines matching(String glob, String pipeline) {
    checkArgument(glob != null && !glob.isBlank(), "glob must not be empty, but was %s", glob);
    checkArgument(pipeline != null, "pipeline must not be null");
    return new ReadLines(glob, pipeline, false, null, false);
  }

  /** The first line of each file is a header: it is not a record, and rides along with each. */
  public ReadLines withHeader(boolean header) {
    return new ReadLines(glob, pipeline, header, watchInterval, allowEmpty);
  }

  /** Keeps matching the glob every {@code interval}, reading each new file once. */
  public ReadLines watching(Duration interval) {
    checkArgument(
        interval != null && interval.isLongerThan(Duration.ZERO),
        "watch interval must be positive, but was %s",
        interval);
    return new ReadLines(glob, pipeline, header, interval, allowEmpty);
  }

  /** Whether a glob matching no file is fine (otherwise a bounded read fails, naming the glob). */
  public ReadLines allowingEmptyMatch(boolean allow) {
    return new ReadLines(glob, pipeline, header, watchInterval, allow);
  }

  @Override
  public PCollection<SourceRecord> expand(PBegin input) {
    FileIO.Match match = FileIO.match().filepattern(glob);
    if (watchInterval != null) {
      match =
          match
              .continuously(watchInterval, Watch.Growth.never())
              .withEmptyMatchTreatment(EmptyMatchTreatment.ALLOW);
    } else {
      match =
          match.withEmptyMatchTreatment(
              allowEmpty ? EmptyMatchTreatment.ALLOW : EmptyMatchTreatment.DISALLOW);
    }
    return input
        .apply("Match", match)
        .apply("Open", FileIO.readMatches())
        .apply("SplitLines", ParDo.of(new SplitLinesFn(header, Accounting.of(pipeline))))
        .setCoder(SourceRecord.SourceRecordCoder.of());
  }

  static final class SplitLinesFn extends DoFn<FileIO.ReadableFile, SourceRecord> {
    private final boolean header;
    private final Accounting accounting;

    SplitLinesFn(boolean header, Accounting accounting) {
      this.header = header;
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
      String origin = "file:" + metadata.resourceId();
      try (InputStream in =
          new BufferedInputStream(Channels.newInputStream(file.open()), 1 << 16)) {
        LineReader lines = new LineReader(in);
        byte[] headerLine = null;
        byte[] line;
        while ((line = lines.next()) != null) {
          if (lines.number() == 1) {
            line = withoutBom(line);
            if (header) {
              headerLine = line;
              continue;
            }
          }
          accounting.read().inc();
          out.output(new SourceRecord(origin + "#" + lines.number(), line, null, headerLine));
        }
      }
    }

    private static byte[] withoutBom(byte[] line) {
      if (line.length >= 3 && Arrays.equals(Arrays.copyOf(line, 3), UTF8_BOM)) {
        return Arrays.copyOfRange(line, 3, line.length);
      }
      return line;
    }
  }

  /** Splits a stream on LF, removing one CR before it; a last line without LF still counts. */
  static final class LineReader {
    private final InputStream in;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private long number;
    private boolean done;

    LineReader(InputStream in) {
      this.in = in;
    }

    long number() {
      return number;
    }

    byte[] next() throws IOException {
      if (done) {
        return null;
      }
      line.reset();
      int b;
      while ((b = in.read()) != -1) {
        if (b == '\n') {
          number++;
          return stripCr(line.toByteArray());
        }
        line.write(b);
      }
      done = true;
      if (line.size() == 0) {
        return null;
      }
      number++;
      return stripCr(line.toByteArray());
    }

    private static byte[] stripCr(byte[] bytes) {
      return bytes.length > 0 && bytes[bytes.length - 1] == '\r'
          ? Arrays.copyOf(bytes, bytes.length - 1)
          : bytes;
    }
  }
}

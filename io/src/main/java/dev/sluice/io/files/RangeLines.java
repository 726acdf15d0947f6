package dev.sluice.io.files;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import org.apache.beam.sdk.io.FileSystems;

/**
 * The lines of one byte range of an uncompressed file: those that start in {@code [start, end)}. A
 * line starts at the file's first byte or right after a line break (LF, CRLF, or a lone CR); a line
 * that starts in the range is read to its end even past the range, and a line that started before
 * it belongs to the range before. Every line of the file is thus in exactly one range.
 */
final class RangeLines {
  private RangeLines() {}

  /**
   * What a range yields: each line's bytes (at most the maximum), its index among the range's lines
   * (from 0) and its whole length.
   */
  @FunctionalInterface
  interface LineConsumer {
    void accept(byte[] line, long index, long length) throws IOException;
  }

  /** The file's first line (for a CSV range that needs the header), byte-order mark removed. */
  static byte[] firstLine(String path, int maxLineBytes) throws IOException {
    try (InputStream in = open(path, 0)) {
      byte[] line = new ReadLines.LineReader(in, maxLineBytes).next();
      return ReadLines.SplitLinesFn.withoutBom(line == null ? new byte[0] : line);
    }
  }

  /**
   * Calls {@code lines} for every line that starts in the range, in order; fails if the bytes from
   * the range's first line start to its last line's end are not all lines and breaks.
   */
  static void scan(ReadLines.FileRange range, int maxLineBytes, LineConsumer lines)
      throws IOException {
    long first = range.start();
    try (InputStream in = open(range.path(), Math.max(0, range.start() - 1))) {
      ReadLines.LineReader reader = new ReadLines.LineReader(in, maxLineBytes);
      if (range.start() > 0) {
        // Where the first line starts: right after the break before the range, or after the
        // line in progress at its start (which belongs to the range before).
        long skipped = reader.skipToLineStart();
        first = range.start() - 1 + skipped;
      }
      reader.resetCount();
      long position = first;
      long index = 0;
      byte[] line;
      while (position < range.end() && (line = reader.next()) != null) {
        reader.accountFor(reader.length());
        lines.accept(line, index++, reader.length());
        position = first + reader.consumed();
      }
      reader.checkAccounted(range.path() + " bytes " + first + "-" + position);
    }
  }

  private static InputStream open(String path, long position) throws IOException {
    var channel = FileSystems.open(FileSystems.matchNewResource(path, false));
    if (position > 0) {
      ((SeekableByteChannel) channel).position(position);
    }
    return new BufferedInputStream(Channels.newInputStream(channel), 1 << 16);
  }
}

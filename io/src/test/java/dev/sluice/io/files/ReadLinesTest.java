package dev.sluice.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.transforms.core.SourceRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class ReadLinesTest {
  @TempDir Path dir;

  /** Each record as {@code #line|payload|header}. */
  private static PCollection<String> described(PCollection<SourceRecord> records) {
    return records.apply(
        MapElements.into(TypeDescriptors.strings())
            .via(
                (SourceRecord r) ->
                    r.origin().substring(r.origin().indexOf('#'))
                        + "|"
                        + new String(r.payload(), StandardCharsets.UTF_8)
                        + "|"
                        + (r.header() == null
                            ? "-"
                            : new String(r.header(), StandardCharsets.UTF_8))));
  }

  private static List<byte[]> lines(String text) throws IOException {
    ReadLines.LineReader reader =
        new ReadLines.LineReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    List<byte[]> lines = new ArrayList<>();
    byte[] line;
    while ((line = reader.next()) != null) {
      reader.accountFor(line.length);
      lines.add(line);
    }
    reader.checkAccounted("text");
    return lines;
  }

  private static List<String> texts(List<byte[]> lines) {
    return lines.stream().map(l -> new String(l, StandardCharsets.UTF_8)).toList();
  }

  @Test
  void linesEndAtLfCrlfOrALoneCr() throws IOException {
    assertThat(texts(lines("a\nb\r\nc\rd")), equalTo(List.of("a", "b", "c", "d")));
    assertThat(texts(lines("a\r\rb\r")), equalTo(List.of("a", "", "b")));
    assertThat(texts(lines("")), equalTo(List.of()));
  }

  @Test
  void aByteTheCallerDoesNotAccountForFailsTheFile() throws IOException {
    ReadLines.LineReader reader =
        new ReadLines.LineReader(
            new ByteArrayInputStream("abc\ndef".getBytes(StandardCharsets.UTF_8)));
    reader.accountFor(reader.next().length);
    reader.next();
    IOException e = assertThrows(IOException.class, () -> reader.checkAccounted("/in/x.csv"));
    assertThat(e.getMessage(), containsString("/in/x.csv: 7 bytes were read but only 4"));
  }

  @Test
  void aCsvWithCrOnlyLineEndingsIsReadLineByLine(TestPipeline pipeline) throws IOException {
    Files.writeString(dir.resolve("mac.csv"), "id,name\r1,a\r2,b\r");
    PAssert.that(
            described(
                pipeline
                    .apply(
                        ReadLines.matching(dir.resolve("*.csv").toString(), "p").withHeader(true))
                    .output()))
        .containsInAnyOrder("#2|1,a|id,name", "#3|2,b|id,name");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void compressionIsRecognisedByItsBytesNotByTheName(TestPipeline pipeline) throws IOException {
    ByteArrayOutputStream gzip = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gzip)) {
      out.write("id,name\n1,a\n2,b\n".getBytes(StandardCharsets.UTF_8));
    }
    Files.write(dir.resolve("gzip-named.csv"), gzip.toByteArray());
    ByteArrayOutputStream bzip2 = new ByteArrayOutputStream();
    try (BZip2CompressorOutputStream out = new BZip2CompressorOutputStream(bzip2)) {
      out.write("id,name\n3,c\n".getBytes(StandardCharsets.UTF_8));
    }
    Files.write(dir.resolve("bzip2-named.csv"), bzip2.toByteArray());
    PAssert.that(
            described(
                pipeline
                    .apply(
                        ReadLines.matching(dir.resolve("*.csv").toString(), "p").withHeader(true))
                    .output()))
        .containsInAnyOrder("#2|1,a|id,name", "#3|2,b|id,name", "#2|3,c|id,name");
    pipeline.run().waitUntilFinish();
  }

  /**
   * A header the check refuses is no header: every line of the file, the first one included, goes
   * on to be dead-lettered, so a file of one line without a line break is not read as empty.
   */
  @Test
  void aFileWhoseHeaderIsRefusedHasEveryLineEmitted(TestPipeline pipeline) throws IOException {
    Files.write(dir.resolve("one-line.csv"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2});
    Files.writeString(dir.resolve("bad-header.csv"), "bogus,cols\n1,a\n");
    Files.writeString(dir.resolve("good.csv"), "id,name\n1,a\n");
    PCollection<SourceRecord> read =
        pipeline
            .apply(
                ReadLines.matching(dir.resolve("*.csv").toString(), "p")
                    .withHeader(true)
                    .withHeaderCheck(
                        h ->
                            new String(h, StandardCharsets.UTF_8).equals("id,name") ? null : "bad"))
            .output();
    PAssert.that(
            read.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via(r -> r.origin().substring(r.origin().lastIndexOf('/') + 1))))
        .containsInAnyOrder("one-line.csv#1", "bad-header.csv#1", "bad-header.csv#2", "good.csv#2");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void zstdXzAndZipFailNamingTheFile() {
    for (byte[] magic :
        List.of(
            new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD, 0, 0},
            new byte[] {(byte) 0xFD, '7', 'z', 'X', 'Z', 0},
            new byte[] {'P', 'K', 3, 4, 0, 0})) {
      InputStream in = new ByteArrayInputStream(magic);
      IOException e =
          assertThrows(IOException.class, () -> ReadLines.decompressed("/in/a.csv", in));
      assertThat(e.getMessage(), containsString("/in/a.csv is "));
    }
  }

  /**
   * A file read as small byte ranges gives exactly the records of the file read whole: every line
   * once, with its own line number and header, whatever the line breaks at the range boundaries.
   */
  @Test
  void aFileSplitIntoRangesReadsAsTheWholeFile(TestPipeline pipeline) throws IOException {
    Random random = new Random(11);
    StringBuilder text = new StringBuilder("\uFEFFid,name\r\n");
    List<String> expected = new ArrayList<>();
    String[] breaks = {"\n", "\r\n", "\r"};
    for (int i = 1; i <= 300; i++) {
      String line = i + "," + "x".repeat(random.nextInt(12));
      text.append(line).append(breaks[random.nextInt(3)]);
      expected.add("#" + (i + 1) + "|" + line + "|id,name");
    }
    Path file = Files.writeString(dir.resolve("big.csv"), text.toString());
    for (int split : new int[] {1, 2, 3, 7, 64, 1 << 20}) {
      assertThat(
          "ranges of " + split,
          ReadLines.planRangesOf(List.of(file.toString()), split).size(),
          org.hamcrest.Matchers.is(
              split >= text.length() ? 1 : (int) Math.ceil((double) Files.size(file) / split)));
    }
    ReadLines split =
        ReadLines.ofRanges(ReadLines.planRangesOf(List.of(file.toString()), 7), "p")
            .withHeader(true);
    PAssert.that(described(pipeline.apply(split).output())).containsInAnyOrder(expected);
    pipeline.run().waitUntilFinish();
  }

  @Test
  void wholeFilesAreGroupedBySizeInOrderALargeOneAlone() {
    List<ReadLines.FileRange> files = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      files.add(new ReadLines.FileRange("/in/" + i, 0, 1, 0, 30, 30));
    }
    files.add(new ReadLines.FileRange("/in/big", 0, 1, 0, 500, 500));
    files.add(new ReadLines.FileRange("/in/last", 0, 1, 0, 10, 10));
    List<ReadLines.RangeGroup> groups = ReadLines.RangeGroup.bySize(files, 100);
    assertThat(
        groups.stream()
            .map(g -> g.ranges().stream().map(ReadLines.FileRange::path).toList())
            .toList(),
        equalTo(
            List.of(
                List.of("/in/0", "/in/1", "/in/2"),
                List.of("/in/3", "/in/4"),
                List.of("/in/big"),
                List.of("/in/last"))));
    assertThat(ReadLines.RangeGroup.bySize(List.of(), 100), equalTo(List.of()));
  }
}

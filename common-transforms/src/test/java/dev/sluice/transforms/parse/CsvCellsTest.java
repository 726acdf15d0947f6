package dev.sluice.transforms.parse;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.sluice.transforms.core.RecordException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

/** Sluice's one-pass CSV splitter reads every line as Commons CSV's RFC 4180 parser does. */
class CsvCellsTest {
  private static final CSVFormat RFC4180 =
      CSVFormat.RFC4180.builder().setIgnoreSurroundingSpaces(false).get();

  private static String commons(String line) {
    try (CSVParser parser = CSVParser.parse(line, RFC4180)) {
      List<CSVRecord> rows = parser.getRecords();
      List<String> cells = new ArrayList<>();
      rows.get(0).forEach(cells::add);
      return cells.toString();
    } catch (IOException | RuntimeException e) {
      return "refused";
    }
  }

  private static String ours(String line) {
    try {
      return RecordParser.csvCells(line).toString();
    } catch (RecordException e) {
      return "refused";
    }
  }

  @Test
  void agreesWithCommonsCsvOnRandomLines() {
    Random random = new Random(7);
    char[] alphabet = {'a', 'b', ' ', ',', '"', 'é', '\\'};
    for (int i = 0; i < 50_000; i++) {
      StringBuilder line = new StringBuilder();
      int length = 1 + random.nextInt(12);
      for (int k = 0; k < length; k++) {
        line.append(alphabet[random.nextInt(alphabet.length)]);
      }
      String text = line.toString();
      assertThat(text, ours(text), equalTo(commons(text)));
    }
  }
}

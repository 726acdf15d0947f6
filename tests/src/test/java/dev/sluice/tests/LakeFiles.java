package dev.sluice.tests;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

/** Reads back what pipelines wrote: Avro lake files and JSON-lines dead letters. */
final class LakeFiles {
  private LakeFiles() {}

  /** Every record of every .avro file under {@code dir}, keyed by the file's relative path. */
  static <T extends SpecificRecord> Map<String, List<T>> readAvro(Path dir, Class<T> type) {
    Map<String, List<T>> out = new TreeMap<>();
    for (Path file : files(dir, ".avro")) {
      List<T> records = new ArrayList<>();
      try (DataFileReader<T> reader =
          new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(type))) {
        reader.forEach(records::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      out.put(dir.relativize(file).toString(), records);
    }
    return out;
  }

  /**
   * Every record of the lake under {@code dir}, keyed by partition and the stem of its files
   * ({@code dt=2026-11-25/part-<input tag>}): what one input wrote into one partition, however many
   * files (one per bundle) hold it.
   */
  static <T extends SpecificRecord> Map<String, List<T>> readAvroByInput(Path dir, Class<T> type) {
    Map<String, List<T>> out = new TreeMap<>();
    Pattern stem = Pattern.compile("^(.*/part-(?:replay-)?[0-9a-f]{12})-[^/]*$");
    readAvro(dir, type)
        .forEach(
            (file, records) -> {
              Matcher m = stem.matcher(file);
              out.computeIfAbsent(m.matches() ? m.group(1) : file, k -> new ArrayList<>())
                  .addAll(records);
            });
    return out;
  }

  /** Every dead letter in the .jsonl files under {@code dir}. */
  static List<DeadLetter> readDeadLetters(Path dir) {
    List<DeadLetter> out = new ArrayList<>();
    for (Path file : files(dir, ".jsonl")) {
      if (!file.getFileName().toString().startsWith("dead-letters")) {
        continue; // e.g. a replay's ledger, _replayed/<run>.jsonl
      }
      try {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          out.add(DeadLetterJson.fromJson(line));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  static List<Path> files(Path dir, String suffix) {
    if (!Files.exists(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> p.getFileName().toString().endsWith(suffix))
          .filter(p -> !dir.relativize(p).toString().startsWith("."))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

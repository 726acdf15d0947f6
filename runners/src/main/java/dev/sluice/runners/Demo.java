package dev.sluice.runners;

import dev.sluice.pipelines.filestolake.FilesToLake;
import dev.sluice.transforms.deadletter.DeadLetterJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Conversions;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;

/**
 * {@code sluice demo [--workDir=<dir>]}: runs files-to-lake on the sample files bundled with
 * Sluice, on the Direct runner, then shows the run summary, a few lake rows and the dead letters.
 */
final class Demo {
  static final List<String> SAMPLES = List.of("orders.csv", "orders.jsonl");

  private final PrintStream out;

  Demo(PrintStream out) {
    this.out = out;
  }

  int run(String[] args) throws IOException {
    Path workDir =
        Path.of(Flags.parse(args, List.of("workDir")).get("workDir", "target/sluice-demo"))
            .toAbsolutePath();
    Path input = workDir.resolve("in");
    Path lake = workDir.resolve("lake");
    Path deadLetters = workDir.resolve("dead-letters");
    Files.createDirectories(input);
    for (String sample : SAMPLES) {
      try (InputStream in = Demo.class.getResourceAsStream("/dev/sluice/runners/demo/" + sample)) {
        Files.write(input.resolve(sample), in.readAllBytes());
      }
    }
    out.println("Demo: files-to-lake on the sample orders in " + input);
    int csv =
        new Launcher(out, System.err)
            .execute(
                FilesToLake.NAME,
                "--input=" + input + "/orders.csv",
                "--format=csv",
                "--schema=Order",
                "--output=" + lake,
                "--deadLetter=file:" + deadLetters + "/csv",
                "--runReport=" + workDir.resolve("run-report-csv.json"));
    int json =
        new Launcher(out, System.err)
            .execute(
                FilesToLake.NAME,
                "--input=" + input + "/orders.jsonl",
                "--format=jsonl",
                "--schema=Order",
                "--output=" + lake.resolve("from-jsonl"),
                "--deadLetter=file:" + deadLetters + "/jsonl",
                "--runReport=" + workDir.resolve("run-report-jsonl.json"));
    if (csv != Launcher.OK || json != Launcher.OK) {
      return csv != Launcher.OK ? csv : json;
    }
    showLake(lake);
    showDeadLetters(deadLetters);
    return Launcher.OK;
  }

  private void showLake(Path lake) throws IOException {
    out.println("\nA few rows of the lake (" + lake + "):");
    List<Path> files;
    try (Stream<Path> walk = Files.walk(lake)) {
      files = walk.filter(p -> p.toString().endsWith(".avro")).sorted().toList();
    }
    int shown = 0;
    for (Path file : files) {
      try (DataFileReader<GenericRecord> reader =
          new DataFileReader<>(file.toFile(), new GenericDatumReader<>(null, null, readable()))) {
        while (reader.hasNext() && shown < 5) {
          out.println("  " + lake.relativize(file) + ": " + reader.next());
          shown++;
        }
      }
    }
  }

  /** Decimals and timestamps shown as such rather than as raw bytes and longs. */
  private static GenericData readable() {
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new Conversions.DecimalConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    return model;
  }

  private void showDeadLetters(Path deadLetters) throws IOException {
    out.println("\nDead letters (" + deadLetters + "):");
    List<String> lines = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(deadLetters)) {
      for (Path file :
          walk.filter(p -> p.toString().endsWith(".jsonl"))
              .sorted(Comparator.naturalOrder())
              .toList()) {
        lines.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
      }
    }
    lines.stream()
        .map(DeadLetterJson::fromJson)
        .sorted(Comparator.comparing(d -> d.getOrigin()))
        .forEach(
            d ->
                out.println(
                    "  " + d.getOrigin() + " [" + d.getReason() + "] " + d.getErrorMessage()));
  }
}

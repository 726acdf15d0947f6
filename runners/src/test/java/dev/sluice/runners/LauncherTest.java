package dev.sluice.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.kafkatojdbc.KafkaToJdbcOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return new Launcher(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8))
        .execute(args);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpPrintsTheCatalogWithOneLinePerPipeline() {
    assertThat(run("--help"), is(Launcher.OK));
    assertThat(
        out(),
        containsString(
            "  files-to-lake    CSV or JSON-lines files into date-partitioned Avro lake files"));
    assertThat(out(), containsString("  demo  "));
  }

  @Test
  void pipelineHelpListsItsOptionsMarkingRequiredOnesAndDefaults() {
    assertThat(run("files-to-lake", "--help"), is(Launcher.OK));
    assertThat(out(), containsString("  * --input=<String>"));
    assertThat(out(), containsString("  * --output=<String>"));
    assertThat(out(), containsString("  * --deadLetter=<String>"));
    assertThat(out(), containsString("    --format=<csv|json|jsonl|avro>"));
    assertThat(
        out(),
        matchesPattern(
            "(?s).*--partitionField=<String>\\s+Timestamp or date field.*default created_at.*"));
  }

  @Test
  void metricsPortIsRefusedWhereTheLauncherCannotWatchTheRun(@TempDir Path dir) throws Exception {
    Path input = Files.writeString(dir.resolve("in.csv"), "order_id\n");
    String[] base = {
      "files-to-lake",
      "--input=" + input,
      "--output=" + dir.resolve("lake"),
      "--deadLetter=file:" + dir.resolve("dlq")
    };
    assertThat(run(with(base, "--metricsPort=70000")), is(Launcher.USAGE));
    assertThat(err(), containsString("--metricsPort must be a port number, not 70000"));
    assertThat(
        run(with(base, "--metricsPort=9464", "--runner=DataflowRunner")), is(Launcher.USAGE));
    assertThat(err(), containsString("Dataflow: Cloud Monitoring"));
  }

  private static String[] with(String[] base, String... more) {
    List<String> all = new ArrayList<>(List.of(base));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  /**
   * cdc-to-jdbc shares kafka-to-jdbc's topic and table options, not its value encoding and version
   * field: its help does not list them, and giving one is an unknown option.
   */
  @Test
  void cdcToJdbcListsNoOptionItWouldRefuse() {
    assertThat(run("cdc-to-jdbc", "--help"), is(Launcher.OK));
    assertThat(out(), containsString("--positionField=<String>"));
    assertThat(out(), containsString("--keyFields=<String,...>"));
    for (String refused : List.of("--format=", "--versionField=", "--writerSchemaVersion=")) {
      assertThat(out(), not(containsString(refused)));
    }
    out.reset();
    assertThat(run("kafka-to-jdbc", "--help"), is(Launcher.OK));
    assertThat(out(), containsString("--versionField=<String>"));
    assertThat(
        run("cdc-to-jdbc", "--topic=t", "--jdbcUrl=jdbc:postgresql://h/d", "--format=json"),
        is(Launcher.USAGE));
    assertThat(err(), containsString("Unknown option --format for cdc-to-jdbc"));
  }

  @Test
  void unknownPipelineIsAUsageErrorNamingIt() {
    assertThat(run("files-to-lakes", "--input=x"), is(Launcher.USAGE));
    assertThat(err(), containsString("Unknown pipeline or command 'files-to-lakes'"));
  }

  @Test
  void unknownOptionIsAUsageErrorNamingIt(@TempDir Path dir) {
    assertThat(
        run(
            "files-to-lake",
            "--input=" + dir + "/*.csv",
            "--output=" + dir,
            "--deadLetter=file:" + dir,
            "--partitionFeild=created_at"),
        is(Launcher.USAGE));
    assertThat(err(), containsString("Unknown option --partitionFeild for files-to-lake"));
  }

  @Test
  void missingRequiredOptionIsAUsageErrorNamingIt(@TempDir Path dir) {
    assertThat(
        run("files-to-lake", "--input=" + dir + "/*.csv", "--deadLetter=file:" + dir),
        is(Launcher.USAGE));
    assertThat(err(), containsString("Missing required option --output"));
  }

  @Test
  void invalidValuesAreUsageErrorsNamingTheOption(@TempDir Path dir) {
    String[] common = {"--input=" + dir + "/*.csv", "--output=" + dir};
    assertThat(
        run("files-to-lake", common[0], common[1], "--deadLetter=s3:bucket"), is(Launcher.USAGE));
    assertThat(
        err(),
        containsString(
            "--deadLetter must be file:<dir>, kafka:<topic> or jdbc:<table>, but was 's3:bucket'"));
    assertThat(
        run("files-to-lake", common[0], common[1], "--deadLetter=file:" + dir, "--format=xml"),
        is(Launcher.USAGE));
    assertThat(
        err(), containsString("--format must be one of csv, json, jsonl, avro, but was 'xml'"));
    assertThat(
        run("files-to-lake", common[0], common[1], "--deadLetter=file:" + dir, "--schema=Invoice"),
        is(Launcher.USAGE));
    assertThat(err(), containsString("Unknown schema 'Invoice'; known schemas: Order, Customer"));
    assertThat(
        run(
            "files-to-lake",
            common[0],
            common[1],
            "--deadLetter=file:" + dir,
            "--partitionField=note"),
        is(Launcher.USAGE));
    assertThat(
        err(),
        containsString("partition field 'note' of schema Order must be a timestamp or date"));
    assertThat(
        run("files-to-lake", common[0], common[1], "--deadLetter=file:" + dir, "--watch=30s"),
        is(Launcher.USAGE));
    assertThat(
        err(), containsString("--watch must be an ISO-8601 interval such as PT30S, but was '30s'"));
  }

  @Test
  void aChoiceIsTakenInAnyCaseAndAnythingElseIsRefusedNamingTheFlagAndTheChoices(
      @TempDir Path dir) {
    String[] common = {
      "--input=" + dir + "/*.jsonl",
      "--output=" + dir.resolve("lake"),
      "--deadLetter=file:" + dir.resolve("dlq")
    };
    assertThat(
        run("files-to-lake", common[0], common[1], common[2], "--format=xml"), is(Launcher.USAGE));
    assertThat(
        err(), containsString("--format must be one of csv, json, jsonl, avro, but was 'xml'"));
    String[] normalized =
        OptionsDoc.normalizeChoices(
            KafkaToJdbcOptions.class,
            new String[] {"--format=JSON", "--writeMethod=Insert", "--topic=COPY"});
    assertThat(
        List.of(normalized),
        org.hamcrest.Matchers.contains("--format=json", "--writeMethod=insert", "--topic=COPY"));
    assertThat(
        run(
            "kafka-to-jdbc",
            "--bootstrapServers=localhost:1",
            "--topic=t",
            "--jdbcUrl=jdbc:postgresql://localhost:1/x",
            "--table=orders",
            "--deadLetter=file:" + dir.resolve("dlq"),
            "--writeMethod=upsert"),
        is(Launcher.USAGE));
    assertThat(
        err(), containsString("--writeMethod must be one of copy, insert, but was 'upsert'"));
  }

  @Test
  void aGlobMatchingNothingFailsBeforeTheRunNamingIt(@TempDir Path dir) {
    assertThat(
        run(
            "files-to-lake",
            "--input=" + dir + "/nothing-*.csv",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq")),
        is(Launcher.USAGE));
    assertThat(err(), containsString("--input " + dir + "/nothing-*.csv matches no file"));
  }

  @Test
  void pipelinesSharingOptionNamesWithOtherDefaultsRunInOneJvm(@TempDir Path dir) throws Exception {
    run(
        "kafka-to-jdbc",
        "--bootstrapServers=127.0.0.1:1",
        "--topic=t",
        "--jdbcUrl=jdbc:postgresql://127.0.0.1:1/none",
        "--table=t",
        "--deadLetter=file:" + dir);
    Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        dir.resolve("in/a.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n"
            + "1,2,3.00,EUR,NEW,2026-11-25T10:15:30Z,2026-11-25T10:15:30Z,1,\n");
    err.reset();
    int code =
        run(
            "files-to-lake",
            "--input=" + dir.resolve("in") + "/*.csv",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("dlq"));
    assertThat(err(), code, is(Launcher.OK));
    assertThat(out(), containsString("written                   1"));
  }

  @Test
  void anOptionGivenTwiceIsRefusedNamingIt(@TempDir Path dir) {
    assertThat(
        run(
            "files-to-lake",
            "--input=" + dir + "/*.csv",
            "--output=" + dir.resolve("lake"),
            "--deadLetter=file:" + dir.resolve("a"),
            "--deadLetter=file:" + dir.resolve("b")),
        is(Launcher.USAGE));
    assertThat(err(), containsString("Option --deadLetter was given more than once"));
    assertThat(err(), org.hamcrest.Matchers.not(containsString("expected one element")));
  }
}

package dev.sluice.tests;

import static dev.sluice.tests.Orders.json;
import static dev.sluice.tests.Orders.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.io.files.LakePublisher;
import dev.sluice.schemas.Order;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same pipelines, unchanged, on three runners: the Direct runner, Flink's local cluster
 * (FlinkRunner with {@code --flinkMaster=[local]}) and a real Flink 1.19 session cluster of three
 * JVMs (the job submitted with the bundle jar): the same lake files, table and dead letters.
 */
@ExtendWith({SharedSandbox.class, SharedFlinkCluster.class})
class FlinkPortabilityTest extends LauncherCalls {
  private static final String[] FLINK = {
    "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"
  };

  /** The Flink runs compared with the Direct runner's, by name. */
  private static Map<String, String[]> flinkRunners() {
    Map<String, String[]> runners = new LinkedHashMap<>();
    runners.put("flink", FLINK);
    runners.put("cluster", SharedFlinkCluster.args());
    return runners;
  }

  @TempDir Path dir;

  private static String[] with(String[] args, String... more) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  private static Map<String, List<String>> lake(Path lake) {
    Map<String, List<String>> files = new TreeMap<>();
    LakeFiles.readAvroByInput(lake, Order.class)
        .forEach(
            (file, orders) ->
                files.put(
                    file,
                    orders.stream()
                        .sorted(Comparator.comparing(Order::getOrderId))
                        .map(Object::toString)
                        .toList()));
    return files;
  }

  private static List<String> deadLetters(Path dir) {
    return LakeFiles.readDeadLetters(dir).stream()
        .map(d -> d.getOrigin().replaceAll(".*/", "") + " " + d.getReason() + " " + d.getStep())
        .sorted()
        .toList();
  }

  @Test
  void filesToLakeWritesTheSameLakeAndDeadLettersOnEveryRunner() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        in.resolve("orders.csv"),
        "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n"
            + "1,10,1.00,EUR,NEW,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,1,a\n"
            + "2,20,2.00,EUR,PAID,2026-11-25T09:00:00Z,2026-11-25T09:00:00Z,1,\"b, c\"\n"
            + "3,x,3.00,EUR,NEW,2026-11-25T09:00:00Z,2026-11-25T09:00:00Z,1,\n"
            + "4,40,4.00,EUR,LOST,2026-11-25T09:00:00Z,2026-11-25T09:00:00Z,1,\n");
    String[] common = {"files-to-lake", "--input=" + in + "/*.csv"};
    assertOk(
        run(
            with(
                common,
                "--output=" + dir.resolve("direct"),
                "--deadLetter=file:" + dir.resolve("dlq-direct"))));
    assertThat(lake(dir.resolve("direct")).size(), is(2));
    assertThat(deadLetters(dir.resolve("dlq-direct")).size(), is(2));
    for (Map.Entry<String, String[]> runner : flinkRunners().entrySet()) {
      String name = runner.getKey();
      assertOk(
          run(
              with(
                  with(
                      common,
                      "--output=" + dir.resolve(name),
                      "--deadLetter=file:" + dir.resolve("dlq-" + name)),
                  runner.getValue())));
      assertThat(name, lake(dir.resolve(name)), equalTo(lake(dir.resolve("direct"))));
      assertThat(
          name,
          deadLetters(dir.resolve("dlq-" + name)),
          equalTo(deadLetters(dir.resolve("dlq-direct"))));
      assertBalanced(dir.resolve(name + "/_sluice/run-report.json"));
    }
  }

  /** The rows of Iceberg table {@code table} of the warehouse's embedded catalog, sorted. */
  private List<String> icebergRows(String table) throws Exception {
    return IcebergReads.rows(
        dir.resolve("warehouse"), table, null, org.apache.iceberg.data.Record::toString);
  }

  /** files-to-lake into an Iceberg table: the same rows whichever runner wrote the data files. */
  @Test
  void filesToLakeFillsTheSameIcebergTableOnEveryRunner() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    StringBuilder csv =
        new StringBuilder(
            "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n");
    for (int id = 1; id <= 30; id++) {
      csv.append(id + ",10,1.00,EUR,NEW,2026-11-2" + (4 + id % 3) + "T09:00:00Z,")
          .append("2026-11-24T09:00:00Z,1," + (id % 4 == 0 ? "" : "n" + id) + "\n");
    }
    csv.append("31,x,3.00,EUR,NEW,2026-11-25T09:00:00Z,2026-11-25T09:00:00Z,1,\n");
    Files.writeString(in.resolve("orders.csv"), csv);
    Map<String, String[]> runners = new LinkedHashMap<>();
    runners.put("direct", new String[0]);
    runners.putAll(flinkRunners());
    for (Map.Entry<String, String[]> runner : runners.entrySet()) {
      String name = runner.getKey();
      assertOk(
          run(
              with(
                  with(
                      new String[] {"files-to-lake", "--input=" + in + "/*.csv"},
                      "--output=iceberg:lake." + name,
                      "--warehouse=" + dir.resolve("warehouse"),
                      "--runReport=" + dir.resolve(name + "-report.json"),
                      "--deadLetter=file:" + dir.resolve("dlq-" + name)),
                  runner.getValue())));
      assertBalanced(dir.resolve(name + "-report.json"));
      assertThat(name, deadLetters(dir.resolve("dlq-" + name)).size(), is(1));
    }
    List<String> direct = icebergRows("lake.direct");
    assertThat(direct.size(), is(30));
    for (String name : flinkRunners().keySet()) {
      assertThat(name, icebergRows("lake." + name), equalTo(direct));
    }
  }

  /** kafka-to-lake, appended and merged by key: the same table rows whichever runner ran it. */
  @Test
  void kafkaToLakeBoundedFillsTheSameIcebergTablesOnEveryRunner() throws Exception {
    String topic = SharedSandbox.newTopic("portable-lake", 2);
    SharedSandbox.produce(
        topic, 0, json(1, 1, "1.00", "NEW"), json(1, 3, "3.00", "SHIPPED"), utf8("{bad"));
    SharedSandbox.produce(topic, 1, json(1, 2, "2.00", "PAID"), json(2, 1, "5.00", "NEW"));
    Map<String, String[]> runners = new LinkedHashMap<>();
    runners.put("direct", new String[0]);
    runners.putAll(flinkRunners());
    for (Map.Entry<String, String[]> runner : runners.entrySet()) {
      String name = runner.getKey();
      for (String mode : List.of("log", "merged")) {
        String[] args = {
          "kafka-to-lake",
          "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
          "--topic=" + topic,
          "--bounded",
          "--output=iceberg:lake.events_" + mode + "_" + name,
          "--warehouse=" + dir.resolve("warehouse"),
          "--eventTimeField=created_at",
          "--runReport=" + dir.resolve(name + "-" + mode + "-report.json"),
          "--deadLetter=file:" + dir.resolve("dlq-" + mode + "-" + name)
        };
        assertOk(
            run(
                with(
                    mode.equals("merged") ? with(args, "--keyFields=order_id") : args,
                    runner.getValue())));
        assertBalanced(dir.resolve(name + "-" + mode + "-report.json"));
        assertThat(name, deadLetters(dir.resolve("dlq-" + mode + "-" + name)).size(), is(1));
      }
    }
    assertThat(icebergRows("lake.events_log_direct").size(), is(4));
    assertThat(icebergRows("lake.events_merged_direct").size(), is(2));
    for (String name : flinkRunners().keySet()) {
      for (String mode : List.of("log", "merged")) {
        assertThat(
            name,
            icebergRows("lake.events_" + mode + "_" + name),
            equalTo(icebergRows("lake.events_" + mode + "_direct")));
      }
    }
  }

  @Test
  void kafkaToJdbcBoundedFillsTheSameTableOnEveryRunner() throws Exception {
    String topic = SharedSandbox.newTopic("portable", 2);
    SharedSandbox.produce(
        topic, 0, json(1, 1, "1.00", "NEW"), json(1, 3, "3.00", "SHIPPED"), utf8("{bad"));
    SharedSandbox.produce(
        topic,
        1,
        json(1, 2, "2.00", "PAID"),
        json(2, 1, "5.00", "NEW"),
        json(3, 1, "1.00", "EURO", "NEW"));
    String[] common = {
      "kafka-to-jdbc",
      "--bootstrapServers=" + SharedSandbox.bootstrapServers(),
      "--topic=" + topic,
      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
      "--jdbcUser=postgres",
      "--bounded"
    };
    String direct = SharedSandbox.newTableLike("orders", "orders_portable_direct");
    assertOk(
        run(with(common, "--table=" + direct, "--deadLetter=file:" + dir.resolve("dlq-direct"))));
    assertThat(SharedSandbox.count("SELECT count(*) FROM " + direct), is(2L));
    assertThat(deadLetters(dir.resolve("dlq-direct")).size(), is(2));
    for (Map.Entry<String, String[]> runner : flinkRunners().entrySet()) {
      String name = runner.getKey();
      String table = SharedSandbox.newTableLike("orders", "orders_portable_" + name);
      assertOk(
          run(
              with(
                  with(
                      common,
                      "--table=" + table,
                      "--deadLetter=file:" + dir.resolve("dlq-" + name)),
                  runner.getValue())));
      assertThat(
          name,
          SharedSandbox.checksum(table, "order_id"),
          equalTo(SharedSandbox.checksum(direct, "order_id")));
      assertThat(
          name,
          deadLetters(dir.resolve("dlq-" + name)),
          equalTo(deadLetters(dir.resolve("dlq-direct"))));
    }
  }

  /**
   * jdbc-to-lake merging by key into an Iceberg table: an initial export, then updates and inserts
   * in the source and an incremental run; each runner's table equals the source's rows and the
   * Direct runner's table.
   */
  @Test
  void jdbcToLakeMergesIntoTheSameIcebergTableOnEveryRunner() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS portable_merge");
    SharedSandbox.execute(
        "CREATE TABLE portable_merge (id bigint PRIMARY KEY, v text NOT NULL, updated_at timestamptz"
            + " NOT NULL)");
    SharedSandbox.execute(
        "INSERT INTO portable_merge SELECT g, 'v' || g, timestamptz '2026-11-24 12:00:00+00' + g *"
            + " interval '7 hours' FROM generate_series(1, 20) g");
    Map<String, String[]> runners = new LinkedHashMap<>();
    runners.put("direct", new String[0]);
    runners.putAll(flinkRunners());
    for (int round = 1; round <= 2; round++) {
      if (round == 2) {
        SharedSandbox.execute(
            "UPDATE portable_merge SET v = v || '-b', updated_at = timestamptz '2026-12-05"
                + " 00:00:00+00' + id * interval '1 minute' WHERE id IN (2, 5, 17)");
        SharedSandbox.execute(
            "INSERT INTO portable_merge VALUES (21, 'v21', '2026-12-05 12:00:00+00'), (22, 'v22',"
                + " '2026-12-05 13:00:00+00')");
      }
      for (Map.Entry<String, String[]> runner : runners.entrySet()) {
        String name = runner.getKey();
        Path report = dir.resolve(name + "-merge-" + round + ".json");
        assertOk(
            run(
                with(
                    new String[] {
                      "jdbc-to-lake",
                      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
                      "--jdbcUser=postgres",
                      "--table=portable_merge",
                      "--watermarkColumn=updated_at",
                      "--output=iceberg:lake.merge_" + name.replace('-', '_'),
                      "--warehouse=" + dir.resolve("warehouse"),
                      "--runReport=" + report,
                      "--deadLetter=file:" + dir.resolve("dlq-merge-" + name)
                    },
                    runner.getValue())));
        assertBalanced(report);
      }
    }
    List<String> direct = icebergRows("lake.merge_direct");
    assertThat(direct.size(), is(22));
    assertThat(direct.stream().filter(r -> r.contains("-b")).count(), is(3L));
    for (String name : flinkRunners().keySet()) {
      assertThat(name, icebergRows("lake.merge_" + name.replace('-', '_')), equalTo(direct));
    }
  }

  @Test
  void jdbcToLakeExportsTheSameFilesOnEveryRunner() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS portable_export");
    SharedSandbox.execute(
        "CREATE TABLE portable_export (id bigint PRIMARY KEY, amount numeric(8,2), updated_at timestamptz NOT NULL)");
    SharedSandbox.execute(
        "INSERT INTO portable_export SELECT g, g * 1.5, timestamptz '2026-11-24 12:00:00+00' + g * interval '7 hours'"
            + " FROM generate_series(1, 20) g");
    String[] common = {
      "jdbc-to-lake",
      "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
      "--jdbcUser=postgres",
      "--table=portable_export",
      "--partitionColumn=id",
      "--numPartitions=3"
    };
    assertOk(
        run(
            with(
                common,
                "--output=" + dir.resolve("direct"),
                "--exportName=portable-direct",
                "--deadLetter=file:" + dir.resolve("dlq-direct"))));
    assertThat(records(dir.resolve("direct")).values().stream().mapToInt(List::size).sum(), is(20));
    for (Map.Entry<String, String[]> runner : flinkRunners().entrySet()) {
      String name = runner.getKey();
      assertOk(
          run(
              with(
                  with(
                      common,
                      "--output=" + dir.resolve(name),
                      "--exportName=portable-" + name,
                      "--deadLetter=file:" + dir.resolve("dlq-" + name)),
                  runner.getValue())));
      assertThat(name, records(dir.resolve(name)), equalTo(records(dir.resolve("direct"))));
      assertBalanced(dir.resolve(name + "/_sluice/run-report.json"));
    }
  }

  /**
   * The lake's records as text, by partition directory (file names carry the export's range tag).
   */
  private static Map<String, List<String>> records(Path lake) throws Exception {
    Map<String, List<String>> out = new TreeMap<>();
    for (Path file : LakePublisher.dataFiles(lake)) {
      List<String> rows = new ArrayList<>();
      try (var reader =
          new org.apache.avro.file.DataFileReader<org.apache.avro.generic.GenericRecord>(
              file.toFile(), new org.apache.avro.generic.GenericDatumReader<>())) {
        reader.forEach(r -> rows.add(r.toString()));
      }
      out.computeIfAbsent(lake.relativize(file).getName(0).toString(), k -> new ArrayList<>())
          .addAll(rows);
    }
    out.values().forEach(rows -> rows.sort(null));
    return out;
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.runners.Launcher;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** jdbc-to-lake on the real PostgreSQL: exact contents, increments, reruns, types, failures. */
@ExtendWith(SharedSandbox.class)
class JdbcToLakeEndToEndTest extends LauncherCalls {
  @TempDir Path dir;

  private int run(String table, Path lake, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "jdbc-to-lake",
                "--jdbcUrl=" + SharedSandbox.jdbcUrl(),
                "--jdbcUser=postgres",
                "--table=" + table,
                "--output=" + lake,
                "--deadLetter=file:" + dir.resolve("dlq")));
    args.addAll(Arrays.asList(extra));
    out.reset();
    err.reset();
    return run(args.toArray(String[]::new));
  }

  /** Every record in the lake's data files, keyed by id, rendered as field=value text. */
  private static Map<Long, String> lake(Path lake) throws Exception {
    Map<Long, String> rows = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(lake)) {
      for (Path file :
          walk.filter(p -> p.toString().endsWith(".avro"))
              .filter(p -> lake.relativize(p).toString().startsWith("dt="))
              .toList()) {
        try (DataFileReader<GenericRecord> reader =
            new DataFileReader<>(file.toFile(), new GenericDatumReader<>())) {
          for (GenericRecord r : reader) {
            Long id = (Long) r.get("id");
            String previous = rows.put(id, render(r) + " @" + lake.relativize(file).getName(0));
            assertThat("id " + id + " is in the lake twice", previous, is((String) null));
          }
        }
      }
    }
    return rows;
  }

  private static String render(GenericRecord r) {
    List<String> parts = new ArrayList<>();
    for (Schema.Field f : r.getSchema().getFields()) {
      Object v = r.get(f.name());
      Schema type =
          f.schema().getType() == Schema.Type.UNION ? f.schema().getTypes().get(1) : f.schema();
      if (v instanceof ByteBuffer b && type.getLogicalType() instanceof LogicalTypes.Decimal d) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        v = new BigDecimal(new BigInteger(bytes), d.getScale()).toPlainString();
      } else if (v instanceof ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        v = "0x" + HexFormat.of().formatHex(bytes);
      }
      parts.add(f.name() + "=" + v);
    }
    return String.join(" ", parts);
  }

  private static JsonNode manifest(Path lake) throws Exception {
    return new ObjectMapper().readTree(lake.resolve("_SUCCESS").toFile());
  }

  @Test
  void everyTypeMapsNullsIncludedAndAnIncrementPicksOnlyChangedRows() throws Exception {
    String table = "export_types";
    SharedSandbox.execute("DROP TABLE IF EXISTS " + table);
    SharedSandbox.execute(
        "CREATE TABLE "
            + table
            + " (id bigint PRIMARY KEY, amount numeric(12,2), small smallint,"
            + " ratio double precision, ok boolean, name text, code varchar(5), u uuid, d date,"
            + " local_ts timestamp, payload bytea, doc jsonb, tags text[], scores int4[],"
            + " updated_at timestamptz NOT NULL)");
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " VALUES"
            + " (1, 12.50, 7, 0.25, true, 'Grüße', 'AB', '123e4567-e89b-12d3-a456-426614174000',"
            + " '2026-11-24', '2026-11-24 08:00:00.123456', '\\xdeadbeef', '{\"a\": 1}', ARRAY['x', NULL],"
            + " ARRAY[1, 2], '2026-11-24T10:00:00.000001Z'),"
            + " (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            + " '2026-11-25T10:00:00Z')");
    Path lake = dir.resolve("lake");

    assertOk(run(table, lake));
    Map<Long, String> first = lake(lake);
    assertBalanced(lake.resolve("_sluice/run-report.json"));
    assertThat(
        first.get(1L),
        equalTo(
            "id=1 amount=12.50 small=7 ratio=0.25 ok=true name=Grüße code=AB"
                + " u=123e4567-e89b-12d3-a456-426614174000 d=20781 local_ts=1795507200123456"
                + " payload=0xdeadbeef doc={\"a\": 1} tags=[x, null] scores=[1, 2]"
                + " updated_at=1795514400000001 @dt=2026-11-24"));
    assertThat(
        first.get(2L),
        equalTo(
            "id=2 amount=null small=null ratio=null ok=null name=null code=null u=null d=null"
                + " local_ts=null payload=null doc=null tags=null scores=null"
                + " updated_at=1795600800000000 @dt=2026-11-25"));
    Schema schema;
    try (Stream<Path> walk = Files.walk(lake)) {
      Path any = walk.filter(p -> p.toString().endsWith(".avro")).findFirst().orElseThrow();
      try (DataFileReader<GenericRecord> reader =
          new DataFileReader<>(any.toFile(), new GenericDatumReader<>())) {
        schema = reader.getSchema();
      }
    }
    assertThat(
        schema.getField("amount").schema().getTypes().get(1).getLogicalType(),
        equalTo(LogicalTypes.decimal(12, 2)));
    assertThat(
        schema.getField("updated_at").schema().getLogicalType(),
        equalTo(LogicalTypes.timestampMicros()));
    assertThat(
        schema.getField("u").schema().getTypes().get(1).getLogicalType().getName(),
        equalTo("uuid"));
    assertThat(
        schema.getField("d").schema().getTypes().get(1).getLogicalType(),
        equalTo(LogicalTypes.date()));
    assertThat(
        schema.getField("scores").schema().getTypes().get(1).getType(), equalTo(Schema.Type.ARRAY));
    JsonNode manifest = manifest(lake);
    assertThat(manifest.get("rows").asLong(), is(2L));
    assertThat(manifest.get("watermark_low_exclusive").isNull(), is(true));
    assertThat(
        manifest.get("watermark_high_inclusive").asText(), equalTo("2026-11-25 10:00:00+00"));
    assertThat(manifest.get("files").size(), is(2));
    assertThat(
        SharedSandbox.text(
            "SELECT high_watermark FROM sluice_export_state WHERE export_name = '" + table + "'"),
        equalTo("2026-11-25 10:00:00+00"));

    // The increment: one row changes, one row arrives; a row unchanged stays as it was.
    SharedSandbox.execute(
        "UPDATE "
            + table
            + " SET name = 'changed', updated_at = '2026-11-26T09:00:00Z' WHERE id = 1");
    SharedSandbox.execute(
        "INSERT INTO " + table + " (id, updated_at) VALUES (3, '2026-11-26T10:00:00Z')");
    assertOk(run(table, lake));
    assertThat(manifest(lake).get("rows").asLong(), is(2L));
    assertThat(
        manifest(lake).get("watermark_low_exclusive").asText(), equalTo("2026-11-25 10:00:00+00"));
    List<String> incrementFiles = new ArrayList<>();
    manifest(lake).get("published").forEach(f -> incrementFiles.add(f.asText()));
    assertThat(incrementFiles, hasSize(1));
    // _SUCCESS lists every file of the lake: the first run's two and the increment's one.
    assertThat(manifest(lake).get("files").size(), is(3));
    assertThat(incrementFiles.get(0), startsWith("dt=2026-11-26/part-"));
    List<Long> inIncrement = new ArrayList<>();
    try (DataFileReader<GenericRecord> reader =
        new DataFileReader<>(
            lake.resolve(incrementFiles.get(0)).toFile(), new GenericDatumReader<>())) {
      reader.forEach(r -> inIncrement.add((Long) r.get("id")));
    }
    inIncrement.sort(null);
    assertThat(inIncrement, equalTo(List.of(1L, 3L)));
  }

  /** The table's rows as {@code id=v}, sorted, at the current snapshot or at {@code snapshot}. */
  private List<String> icebergRows(String table, Long snapshot) throws Exception {
    return IcebergReads.rows(
        dir.resolve("warehouse"), table, snapshot, r -> r.getField("id") + "=" + r.getField("v"));
  }

  private long currentSnapshot(String table) throws Exception {
    return IcebergReads.catalog(dir.resolve("warehouse"))
        .using(c -> c.loadTable(TableIdentifier.parse(table)).currentSnapshot().snapshotId());
  }

  /** A new source table (id, v, updated_at) of {@code rows} rows, one hour apart. */
  private static String keyedSource(String table, int rows) throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS " + table);
    SharedSandbox.execute(
        "CREATE TABLE "
            + table
            + " (id bigint PRIMARY KEY, v text, updated_at timestamptz NOT NULL)");
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " SELECT g, 'v' || g, timestamptz '2026-11-25 00:00:00+00' + g * interval '1 hour'"
            + " FROM generate_series(1, "
            + rows
            + ") g");
    return table;
  }

  private static List<String> sourceRows(String table) throws Exception {
    String text =
        SharedSandbox.text(
            "SELECT string_agg(id || '=' || v, ',' ORDER BY id || '=' || v) FROM " + table);
    List<String> rows = new ArrayList<>(text == null ? List.of() : List.of(text.split(",")));
    rows.sort(null);
    return rows;
  }

  /**
   * Into an Iceberg table, merged by the source's primary key: an initial export, then updates and
   * inserts in the source and an incremental run leave the table equal to the source; the previous
   * snapshot still shows the earlier state; --fullRefresh after deletes in the source removes them.
   * The watermark lives in the table's commits (no state table row is written).
   */
  @Test
  void intoAnIcebergTableIncrementsMergeByKeyAndAFullRefreshAppliesDeletes() throws Exception {
    String table = keyedSource("export_merge", 20);
    String[] iceberg = {
      "--watermarkColumn=updated_at",
      "--exportName=merge",
      "--warehouse=" + dir.resolve("warehouse"),
      "--stateTable=sluice_export_state_unused"
    };
    assertOk(run(table, Path.of("iceberg:lake.export_merge"), iceberg));
    assertThat(icebergRows("lake.export_merge", null), equalTo(sourceRows(table)));
    long first = currentSnapshot("lake.export_merge");
    List<String> before = icebergRows("lake.export_merge", null);

    // Updates (a newer updated_at, some into another day) and inserts.
    SharedSandbox.execute(
        "UPDATE "
            + table
            + " SET v = v || '-b', updated_at = timestamptz '2026-11-27 00:00:00+00' + id * interval"
            + " '1 minute' WHERE id IN (2, 5, 17)");
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " VALUES (21, 'v21', '2026-11-27 12:00:00+00'), (22, 'v22', '2026-11-27 13:00:00+00')");
    assertOk(run(table, Path.of("iceberg:lake.export_merge"), iceberg));
    assertThat(icebergRows("lake.export_merge", null), equalTo(sourceRows(table)));
    assertThat(icebergRows("lake.export_merge", null).size(), is(22));
    // Time travel: the first export's snapshot shows the earlier state.
    assertThat(icebergRows("lake.export_merge", first), equalTo(before));
    // A rerun with nothing changed changes nothing.
    assertOk(run(table, Path.of("iceberg:lake.export_merge"), iceberg));
    assertThat(icebergRows("lake.export_merge", null), equalTo(sourceRows(table)));

    // Source deletes apply on --fullRefresh, in one commit.
    SharedSandbox.execute("DELETE FROM " + table + " WHERE id IN (3, 21)");
    List<String> full = new ArrayList<>(List.of(iceberg));
    full.add("--fullRefresh");
    assertOk(run(table, Path.of("iceberg:lake.export_merge"), full.toArray(String[]::new)));
    assertThat(icebergRows("lake.export_merge", null), equalTo(sourceRows(table)));
    assertThat(icebergRows("lake.export_merge", null).size(), is(20));
    assertThat(
        SharedSandbox.count(
            "SELECT count(*) FROM information_schema.tables WHERE table_name ="
                + " 'sluice_export_state_unused'"),
        is(0L));
  }

  /**
   * A soft-delete column: a full export leaves the marked rows out, an incremental one removes the
   * rows of keys marked since, and a key marked again as live comes back.
   */
  @Test
  void aSoftDeleteColumnRemovesTheMarkedKeysFromTheIcebergTable() throws Exception {
    String table = keyedSource("export_soft", 10);
    SharedSandbox.execute(
        "ALTER TABLE " + table + " ADD COLUMN gone boolean NOT NULL DEFAULT false");
    SharedSandbox.execute("UPDATE " + table + " SET gone = true WHERE id = 4");
    String[] iceberg = {
      "--watermarkColumn=updated_at",
      "--warehouse=" + dir.resolve("warehouse"),
      "--deletedColumn=gone"
    };
    assertOk(run(table, Path.of("iceberg:lake.export_soft"), iceberg));
    assertThat(icebergRows("lake.export_soft", null), equalTo(liveRows(table)));
    assertThat(icebergRows("lake.export_soft", null).size(), is(9));

    SharedSandbox.execute(
        "UPDATE "
            + table
            + " SET gone = true, updated_at = '2026-11-28 00:00:00+00' WHERE id IN (6, 7)");
    SharedSandbox.execute(
        "UPDATE "
            + table
            + " SET gone = false, updated_at = '2026-11-28 01:00:00+00' WHERE id = 4");
    assertOk(run(table, Path.of("iceberg:lake.export_soft"), iceberg));
    assertThat(icebergRows("lake.export_soft", null), equalTo(liveRows(table)));
    assertThat(icebergRows("lake.export_soft", null).size(), is(8));

    // Refused before anything is read: the column must be a boolean.
    String[] wrong = {
      "--watermarkColumn=updated_at", "--warehouse=" + dir.resolve("warehouse"), "--deletedColumn=v"
    };
    assertThat(run(table, Path.of("iceberg:lake.export_soft"), wrong), is(Launcher.USAGE));
    assertThat(
        err.toString(StandardCharsets.UTF_8),
        containsString("--deletedColumn=v must be a boolean column of export_soft"));
  }

  private static List<String> liveRows(String table) throws Exception {
    String text =
        SharedSandbox.text(
            "SELECT string_agg(id || '=' || v, ',' ORDER BY id || '=' || v) FROM "
                + table
                + " WHERE NOT gone");
    List<String> rows = new ArrayList<>(List.of(text.split(",")));
    rows.sort(null);
    return rows;
  }

  @Test
  void rerunningTheSameRangeIsIdempotentAndFullRefreshReplacesEverything() throws Exception {
    String table = keyedSource("export_rerun", 30);
    Path lake = dir.resolve("lake");
    assertOk(run(table, lake, "--exportName=rerun"));
    Map<Long, String> first = lake(lake);
    assertThat(first.size(), is(30));
    List<Path> files = dataFiles(lake);

    assertOk(run(table, lake, "--exportName=rerun"));
    assertThat(lake(lake), equalTo(first));
    assertThat(dataFiles(lake), equalTo(files));
    assertThat(manifest(lake).get("rows").asLong(), is(0L));
    assertBalanced(lake.resolve("_sluice/run-report.json"));

    assertOk(run(table, lake, "--exportName=rerun", "--fullRefresh"));
    assertOk(run(table, lake, "--exportName=rerun", "--fullRefresh"));
    assertThat(lake(lake), equalTo(first));
    assertThat(dataFiles(lake).size(), is(files.size()));
    assertThat(manifest(lake).get("full_refresh").asBoolean(), is(true));
  }

  @Test
  void parallelRangesCoverEveryRowExactlyOnceBoundariesAndNullsIncluded() throws Exception {
    String table = "export_ranges";
    SharedSandbox.execute("DROP TABLE IF EXISTS " + table);
    SharedSandbox.execute(
        "CREATE TABLE "
            + table
            + " (id bigint PRIMARY KEY, bucket integer, updated_at timestamptz NOT NULL)");
    // bucket 0..100 (every value a potential boundary), 10 NULL buckets.
    SharedSandbox.execute(
        "INSERT INTO "
            + table
            + " SELECT g, CASE WHEN g > 101 THEN NULL ELSE g - 1 END, '2026-11-25T00:00:00Z' FROM generate_series(1, 111) g");
    Path lake = dir.resolve("lake");
    assertOk(
        run(table, lake, "--partitionColumn=bucket", "--numPartitions=7", "--exportName=ranges"));
    Map<Long, String> rows = lake(lake);
    assertThat(rows.size(), is(111));
    assertThat(rows.keySet().stream().mapToLong(Long::longValue).sum(), is(111L * 112 / 2));
    JsonNode report = new ObjectMapper().readTree(lake.resolve("_sluice/run-report.json").toFile());
    assertThat(report.get("counters").get("read").asLong(), is(111L));
    assertThat(report.get("counters").get("written").asLong(), is(111L));

    Path byTime = dir.resolve("lake-by-time");
    assertOk(
        run(
            table,
            byTime,
            "--partitionColumn=updated_at",
            "--numPartitions=3",
            "--exportName=ranges-ts",
            "--fullRefresh"));
    assertThat(lake(byTime).size(), is(111));
  }

  @Test
  void aFailureMidRunPublishesNothingAndKeepsTheWatermark() throws Exception {
    String table = "export_fail";
    SharedSandbox.execute("DROP TABLE IF EXISTS " + table);
    SharedSandbox.execute(
        "CREATE TABLE " + table + " (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL)");
    SharedSandbox.execute("INSERT INTO " + table + " VALUES (1, '2026-11-25T00:00:00Z')");
    Path blocker = Files.writeString(dir.resolve("not-a-directory"), "x");
    Path lake = blocker.resolve("lake");
    // Found before anything is read: the lake's directory cannot be created under a file.
    assertThat(run(table, lake), is(Launcher.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("is a file"));
    assertThat(Files.exists(lake), is(false));
    assertThat(
        SharedSandbox.count(
            "SELECT count(*) FROM sluice_export_state WHERE export_name = '" + table + "'"),
        is(0L));

    // A good lake, then a run whose publish target is broken mid-way: nothing moves, watermark
    // kept.
    Path good = dir.resolve("good");
    assertOk(run(table, good));
    String watermark =
        SharedSandbox.text(
            "SELECT high_watermark FROM sluice_export_state WHERE export_name = '" + table + "'");
    List<Path> before = dataFiles(good);
    SharedSandbox.execute("INSERT INTO " + table + " VALUES (2, '2026-11-26T00:00:00Z')");
    Files.writeString(
        good.resolve("dt=2026-11-26"), "a file where the new partition's directory must go");
    assertThat(run(table, good), is(Launcher.RUN_FAILED));
    assertThat(dataFiles(good), equalTo(before));
    assertThat(
        SharedSandbox.text(
            "SELECT high_watermark FROM sluice_export_state WHERE export_name = '" + table + "'"),
        equalTo(watermark));
  }

  @Test
  void anUnsupportedTypeStopsTheRunNamingTheColumnAndType() throws Exception {
    SharedSandbox.execute("DROP TABLE IF EXISTS export_bad_types");
    SharedSandbox.execute(
        "CREATE TABLE export_bad_types (id bigint, spot point, total numeric, updated_at timestamptz)");
    assertThat(run("export_bad_types", dir.resolve("lake")), is(Launcher.USAGE));
    String message = err.toString(StandardCharsets.UTF_8);
    assertThat(message, containsString("column spot has type point"));
    assertThat(message, containsString("column total has type numeric without precision"));
    assertThat(Files.exists(dir.resolve("lake")), is(false));
  }

  private static List<Path> dataFiles(Path lake) throws Exception {
    return LakePublisher.dataFiles(lake);
  }
}

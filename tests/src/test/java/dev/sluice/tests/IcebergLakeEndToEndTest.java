package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.io.iceberg.IcebergMaintenance;
import dev.sluice.runners.Launcher;
import dev.sluice.schemas.Order;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * files-to-lake into an Iceberg table (format v2, Parquet), on the embedded SQLite catalog and on a
 * real PostgreSQL catalog. Every check reads the table back twice: with Iceberg's generic reader,
 * and with DuckDB's {@code read_parquet} over the current snapshot's data files.
 */
@ExtendWith(SharedSandbox.class)
class IcebergLakeEndToEndTest extends LauncherCalls {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;

  private static String line(long id, String day) {
    return id + ",7,12.50,EUR,NEW," + day + "T10:00:00Z," + day + "T10:00:00Z,1,n" + id + "\n";
  }

  /** A messy corpus: good orders over two days, and lines that do not parse or fit. */
  private Path corpus(String name, long first, long count) throws Exception {
    Path in = Files.createDirectories(dir.resolve(name));
    StringBuilder csv = new StringBuilder(HEADER);
    for (long id = first; id < first + count; id++) {
      csv.append(line(id, id % 2 == 0 ? "2026-11-24" : "2026-11-25"));
    }
    csv.append("not,enough\n");
    csv.append(first + 900 + ",7,12.345,EUR,NEW,2026-11-24T10:00:00Z,2026-11-24T10:00:00Z,1,x\n");
    csv.append(first + 901 + ",7,1.00,EUR,LOST,2026-11-24T10:00:00Z,2026-11-24T10:00:00Z,1,x\n");
    Files.writeString(in.resolve("orders.csv"), csv);
    return in;
  }

  private int load(Path in, String catalog, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "files-to-lake",
                "--input=" + in + "/*.csv",
                "--output=iceberg:lake.orders",
                "--warehouse=" + dir.resolve("warehouse"),
                "--deadLetter=file:" + dir.resolve("dlq-" + in.getFileName()),
                "--runReport=" + dir.resolve("report.json")));
    if (catalog != null) {
      args.add("--catalog=" + catalog);
      args.add("--catalogUser=postgres");
    }
    args.addAll(List.of(extra));
    out.reset();
    err.reset();
    return run(args.toArray(String[]::new));
  }

  private JsonNode report() throws Exception {
    return new ObjectMapper().readTree(dir.resolve("report.json").toFile());
  }

  private IcebergCatalog catalog(String uri) {
    return new IcebergCatalog(
        uri == null ? "jdbc:sqlite:" + dir.resolve("warehouse/sluice-catalog.db") : uri,
        dir.resolve("warehouse").toString(),
        uri == null ? null : "postgres",
        null);
  }

  /** The order ids of the table's current snapshot, read by Iceberg's generic reader, sorted. */
  private List<Long> icebergIds(String uri) throws Exception {
    Catalog c = catalog(uri).open();
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(c.loadTable(TableIdentifier.parse("lake.orders"))).build()) {
      List<Long> ids = new ArrayList<>();
      rows.forEach(r -> ids.add((Long) r.getField("order_id")));
      ids.sort(null);
      return ids;
    } finally {
      ((AutoCloseable) c).close();
    }
  }

  /** The same, read by DuckDB from the Parquet data files of the current snapshot. */
  private List<Long> duckdbIds(String uri) throws Exception {
    List<String> files = new ArrayList<>();
    Catalog c = catalog(uri).open();
    try {
      Table table = c.loadTable(TableIdentifier.parse("lake.orders"));
      try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
        tasks.forEach(t -> files.add(t.file().location().replaceFirst("^file:", "")));
      }
    } finally {
      ((AutoCloseable) c).close();
    }
    List<Long> ids = new ArrayList<>();
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT order_id FROM read_parquet(["
                    + files.stream().map(f -> "'" + f + "'").collect(Collectors.joining(","))
                    + "]) ORDER BY order_id")) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    }
    return ids;
  }

  private static List<Long> range(long first, long count) {
    List<Long> ids = new ArrayList<>();
    for (long id = first; id < first + count; id++) {
      ids.add(id);
    }
    return ids;
  }

  private void loadRerunAndAddAnInput(String catalog) throws Exception {
    Path day1 = corpus("in1", 1, 20);
    assertOk(load(day1, catalog));
    assertThat(report().get("counters").get("written").asLong(), is(20L));
    assertThat(report().get("counters").get("dead_lettered").asLong(), is(3L));
    assertBalanced(dir.resolve("report.json"));
    assertThat(LakeFiles.readDeadLetters(dir.resolve("dlq-in1")).size(), is(3));
    assertThat(icebergIds(catalog), equalTo(range(1, 20)));
    assertThat(duckdbIds(catalog), equalTo(range(1, 20)));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("snapshot: "));
    assertThat(report().get("outputs").get("snapshot").asText(), containsString("+2 file(s), 20"));

    // The same input again: the same rows, no duplicate key.
    assertOk(load(day1, catalog));
    assertThat(icebergIds(catalog), equalTo(range(1, 20)));
    assertThat(duckdbIds(catalog), equalTo(range(1, 20)));
    assertThat(report().get("outputs").get("snapshot").asText(), containsString("-2 file(s)"));

    // A second input adds its rows; the first input's stay.
    assertOk(load(corpus("in2", 101, 10), catalog));
    List<Long> both = range(1, 20);
    both.addAll(range(101, 10));
    assertThat(icebergIds(catalog), equalTo(both));
    assertThat(duckdbIds(catalog), equalTo(both));
  }

  @Test
  void loadsIntoATableOnTheEmbeddedCatalogAndARerunReplacesItsOwnRows() throws Exception {
    loadRerunAndAddAnInput(null);
  }

  @Test
  void loadsIntoATableOnAPostgresqlCatalog() throws Exception {
    String db = "iceberg_catalog_" + System.nanoTime();
    SharedSandbox.execute("CREATE DATABASE " + db);
    loadRerunAndAddAnInput(SharedSandbox.jdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/" + db + "$1"));
    assertThat(
        SharedSandbox.count("SELECT count(*) FROM pg_database WHERE datname = '" + db + "'"),
        is(1L));
  }

  /**
   * The same load, rerun and second input through a real Iceberg REST catalog (Iceberg's reference
   * server, which Polaris, Nessie, Glue and Unity implement the protocol of).
   */
  @Test
  void loadsIntoATableOnARestCatalog() throws Exception {
    try (RestCatalog rest = RestCatalog.start(dir)) {
      loadRerunAndAddAnInput(rest.uri());
      assertThat(
          "the table is the REST server's",
          Files.isDirectory(dir.resolve("rest-warehouse/lake/orders/data")),
          is(true));
    }
  }

  /**
   * Write-audit-publish on Iceberg's terms: a gated run commits to a branch {@code audit-<run>}
   * before its gate is judged. A closed gate leaves main's snapshot as it was, exits 4 and leaves
   * the branch (named in the report, holding the run's rows) for inspection; an open one moves main
   * by exactly the run's rows and removes its branch. {@code maintain} removes the branch left.
   */
  @Test
  void aClosedGateLeavesMainUntouchedAndItsAuditBranchForInspection() throws Exception {
    assertOk(load(corpus("in1", 1, 20), null));
    long before = snapshot();
    Path strict =
        Files.writeString(
            dir.resolve("strict.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: row_count, min: 1000, severity: error}\n");
    assertThat(load(corpus("in2", 101, 10), null, "--rules=" + strict), is(Launcher.QUALITY));
    assertThat(snapshot(), is(before));
    assertThat(icebergIds(null), equalTo(range(1, 20)));
    String audit = report().get("outputs").get("audit branch").asText();
    assertThat(audit, containsString("main moves to it only when the gate opens"));
    String branch = audit.substring(0, audit.indexOf(' '));
    assertThat(branch, org.hamcrest.Matchers.startsWith("audit-"));
    assertThat(branches(), equalTo(List.of(branch)));
    List<Long> both = range(1, 20);
    both.addAll(range(101, 10));
    assertThat("the branch holds main and the run's rows", branchIds(branch), equalTo(both));

    Path relaxed =
        Files.writeString(
            dir.resolve("relaxed.yaml"),
            "dataset: orders\ndataset_rules:\n  - {rule: row_count, min: 1, severity: error}\n");
    assertOk(load(corpus("in2", 101, 10), null, "--rules=" + relaxed));
    assertThat(icebergIds(null), equalTo(both));
    assertThat(duckdbIds(null), equalTo(both));
    assertThat(
        report().get("outputs").get("snapshot").asText(), containsString("main fast-forwarded"));
    assertThat(report().get("outputs").get("audit branch").asText(), containsString("published"));
    assertThat("only the closed gate's branch is left", branches(), equalTo(List.of(branch)));

    // status names each run's snapshot, and the branch the closed gate left.
    out.reset();
    assertOk(run("status", "--runHistory=" + dir.resolve("warehouse/_sluice/lake.orders/history")));
    List<String> lines = List.of(out.toString(StandardCharsets.UTF_8).strip().split("\\R"));
    assertThat(lines.get(0), containsString("snapshot"));
    assertThat(lines.get(1), org.hamcrest.Matchers.endsWith(" " + before));
    assertThat(lines.get(2), containsString("quality_gate_closed"));
    assertThat(lines.get(2), org.hamcrest.Matchers.endsWith(" " + branch));
    assertThat(lines.get(3), org.hamcrest.Matchers.endsWith(" " + snapshot()));

    out.reset();
    assertOk(
        run(
            "maintain",
            "--output=iceberg:lake.orders",
            "--warehouse=" + dir.resolve("warehouse"),
            "--removeAuditBranchesOlderThan=PT0S"));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("removed 1 audit branch(es)"));
    assertThat(branches(), equalTo(List.of()));
    assertThat(icebergIds(null), equalTo(both));
  }

  /** The table's branches other than main. */
  private List<String> branches() throws Exception {
    return catalog(null)
        .using(
            c -> {
              List<String> names = new ArrayList<>();
              c.loadTable(TableIdentifier.parse("lake.orders"))
                  .refs()
                  .forEach((name, ref) -> names.add(name));
              names.remove("main");
              names.sort(null);
              return names;
            });
  }

  /** The order ids of {@code branch}, by Iceberg's generic reader. */
  private List<Long> branchIds(String branch) throws Exception {
    return catalog(null)
        .using(
            c -> {
              Table table = c.loadTable(TableIdentifier.parse("lake.orders"));
              List<Long> ids = new ArrayList<>();
              try (CloseableIterable<Record> rows =
                  IcebergGenerics.read(table)
                      .useSnapshot(table.snapshot(branch).snapshotId())
                      .build()) {
                rows.forEach(r -> ids.add((Long) r.getField("order_id")));
              }
              ids.sort(null);
              return ids;
            });
  }

  /**
   * A newer contract that adds an optional field adds the column in the run's own commit (one new
   * table metadata version for schema and data): the rows before read null, the new rows their
   * values. A contract that changes a column's type is refused before anything is read, naming the
   * field.
   */
  @Test
  void aContractAddingAnOptionalFieldAddsTheColumnWithTheDataAndABreakingOneIsRefused()
      throws Exception {
    assertOk(load(corpus("in1", 1, 4), null));
    String v2 = Order.getClassSchema().toString(true);
    com.fasterxml.jackson.databind.node.ObjectNode contract =
        (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(v2);
    contract.put("sluice.version", 3);
    ((com.fasterxml.jackson.databind.node.ArrayNode) contract.get("fields"))
        .addObject()
        .put("name", "coupon")
        .putNull("default")
        .putArray("type")
        .add("null")
        .add("string");
    Path v3 = Files.writeString(dir.resolve("order-v3.avsc"), contract.toString());
    Path in2 = Files.createDirectories(dir.resolve("in2"));
    Files.writeString(
        in2.resolve("orders.csv"),
        HEADER.replace("note\n", "note,coupon\n")
            + line(201, "2026-11-24").replace("\n", ",XMAS\n")
            + line(202, "2026-11-25").replace("\n", ",\n"));
    int versions = metadataVersions();
    assertOk(load(in2, null, "--schemaFile=" + v3));
    assertThat("schema and data in one commit", metadataVersions(), is(versions + 1));
    Map<Long, Object> coupons =
        catalog(null)
            .using(
                c -> {
                  Map<Long, Object> byId = new TreeMap<>();
                  try (CloseableIterable<Record> rows =
                      IcebergGenerics.read(c.loadTable(TableIdentifier.parse("lake.orders")))
                          .build()) {
                    rows.forEach(
                        r -> byId.put((Long) r.getField("order_id"), r.getField("coupon")));
                  }
                  return byId;
                });
    Map<Long, Object> expected = new TreeMap<>();
    for (long id = 1; id <= 4; id++) {
      expected.put(id, null);
    }
    expected.put(201L, "XMAS");
    expected.put(202L, null);
    assertThat(coupons, equalTo(expected));

    // Avro reads an old long as a double (the contract's compatibility check lets it pass), but an
    // Iceberg long column cannot become a double.
    com.fasterxml.jackson.databind.node.ObjectNode widened =
        (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(v2);
    widened.put("sluice.version", 3);
    for (JsonNode field : widened.get("fields")) {
      if (field.get("name").asText().equals("version")) {
        ((com.fasterxml.jackson.databind.node.ObjectNode) field).put("type", "double");
      }
    }
    Path breaking = Files.writeString(dir.resolve("order-widened.avsc"), widened.toString());
    int code = load(in2, null, "--schemaFile=" + breaking);
    assertThat(code == Launcher.OK, is(false));
    String printed = err.toString(StandardCharsets.UTF_8);
    assertThat(printed, containsString("column 'version' is long but the contract has double"));
    assertThat(printed, containsString("breaking"));
    assertThat(metadataVersions(), is(versions + 1));
  }

  /** How many metadata versions the table has had (each commit writes one). */
  private int metadataVersions() throws Exception {
    return catalog(null)
        .using(
            c ->
                ((org.apache.iceberg.HasTableOperations)
                            c.loadTable(TableIdentifier.parse("lake.orders")))
                        .operations()
                        .current()
                        .previousFiles()
                        .size()
                    + 1);
  }

  private long snapshot() throws Exception {
    Catalog c = catalog(null).open();
    try {
      Snapshot current = c.loadTable(TableIdentifier.parse("lake.orders")).currentSnapshot();
      return current == null ? -1 : current.snapshotId();
    } finally {
      ((AutoCloseable) c).close();
    }
  }

  /**
   * Fifty small inputs make fifty small data files; {@code maintain --compact} rewrites them into a
   * few with the same rows, {@code --expireSnapshotsOlderThan} drops the old snapshots, and {@code
   * --removeOrphans} deletes a data file no snapshot references (what a killed run leaves).
   */
  @Test
  void maintainCompactsExpiresAndRemovesOrphans() throws Exception {
    Path in = Files.createDirectories(dir.resolve("small"));
    for (int i = 1; i <= 50; i++) {
      Files.writeString(in.resolve("f" + i + ".csv"), HEADER + line(i, "2026-11-25"));
    }
    assertOk(load(in, null));
    assertThat(filesAndRows(), equalTo(List.of(50L, 50L)));
    Path orphan;
    Catalog c = catalog(null).open();
    try {
      Table table = c.loadTable(TableIdentifier.parse("lake.orders"));
      Path data = Path.of(table.location().replaceFirst("^file:", "")).resolve("data");
      try (var files = Files.walk(data)) {
        Path some = files.filter(f -> f.toString().endsWith(".parquet")).findFirst().orElseThrow();
        orphan = Files.copy(some, some.resolveSibling("part-killed-run.parquet"));
      }
    } finally {
      ((AutoCloseable) c).close();
    }

    out.reset();
    assertOk(
        run(
            "maintain",
            "--output=iceberg:lake.orders",
            "--warehouse=" + dir.resolve("warehouse"),
            "--compact",
            "--expireSnapshotsOlderThan=PT0S",
            "--removeOrphans",
            "--orphanAge=PT0S"));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(printed, containsString("50 files -> 1 file(s)"));
    assertThat(printed, containsString("orphan data file(s) older than PT0S"));
    assertThat(Files.exists(orphan), is(false));
    // What is left in the table's data directory is the one compacted file.
    try (var left = Files.walk(orphan.getParent())) {
      assertThat(left.filter(f -> f.toString().endsWith(".parquet")).count(), is(1L));
    }
    assertThat(filesAndRows(), equalTo(List.of(1L, 50L)));
    assertThat(icebergIds(null), equalTo(range(1, 50)));
    assertThat(duckdbIds(null), equalTo(range(1, 50)));
    Catalog after = catalog(null).open();
    try {
      int snapshots = 0;
      for (Snapshot ignored : after.loadTable(TableIdentifier.parse("lake.orders")).snapshots()) {
        snapshots++;
      }
      assertThat(snapshots, is(1));
    } finally {
      ((AutoCloseable) after).close();
    }
  }

  private List<Long> filesAndRows() throws Exception {
    return catalog(null)
        .using(
            c -> {
              long[] both =
                  IcebergMaintenance.filesAndRows(
                      c.loadTable(TableIdentifier.parse("lake.orders")));
              return List.of(both[0], both[1]);
            });
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import dev.sluice.io.iceberg.IcebergCatalog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * files-to-lake into an Iceberg table on a PostgreSQL catalog, its launcher killed with SIGKILL
 * twice: while it writes data files, and at its commit (held on the catalog's row lock, after the
 * pipeline finished and the run's metadata was written, before the catalog's pointer moved). No row
 * of a killed run is visible, a rerun converges to the same rows with no duplicate key, and {@code
 * maintain --removeOrphans} deletes the data files the killed runs left.
 */
@ExtendWith(SharedSandbox.class)
class IcebergKillFaultTest extends LauncherCalls {
  private static final String HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note\n";

  @TempDir Path dir;

  private Path corpus(String name, long first, long count, int files) throws Exception {
    Path in = Files.createDirectories(dir.resolve(name));
    long per = count / files;
    for (int f = 0; f < files; f++) {
      StringBuilder csv = new StringBuilder(HEADER);
      for (long id = first + f * per; id < first + (f + 1) * per; id++) {
        String day = id % 2 == 0 ? "2026-11-24" : "2026-11-25";
        csv.append(id)
            .append(",7,12.50,EUR,NEW,")
            .append(day)
            .append("T10:00:00Z,")
            .append(day)
            .append("T10:00:00Z,1,n")
            .append(id)
            .append('\n');
      }
      Files.writeString(in.resolve("orders-" + f + ".csv"), csv);
    }
    return in;
  }

  private List<String> args(Path in, String catalog) {
    return List.of(
        "files-to-lake",
        "--input=" + in + "/*.csv",
        "--output=iceberg:lake.orders",
        "--warehouse=" + dir.resolve("warehouse"),
        "--catalog=" + catalog,
        "--catalogUser=postgres",
        "--deadLetter=file:" + dir.resolve("dlq"),
        "--runReport=" + dir.resolve("report.json"));
  }

  @Test
  void killedWhileWritingAndAtTheCommitNothingIsVisibleAndARerunConverges() throws Exception {
    String db = "iceberg_kill_" + System.nanoTime();
    SharedSandbox.execute("CREATE DATABASE " + db);
    String catalog = SharedSandbox.jdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/" + db + "$1");
    IcebergCatalog tables =
        new IcebergCatalog(catalog, dir.resolve("warehouse").toString(), "postgres", null);

    // Rows already in the table, which nothing below may disturb.
    assertOk(run(args(corpus("base", 1_000_000, 10, 1), catalog).toArray(String[]::new)));
    Set<Long> base = ids(tables);
    assertThat(base.size(), is(10));
    Path data = dataDirectory(tables);
    int committedFiles = parquetFiles(data).size();

    // 1. Killed while it writes data files.
    Path big = corpus("big", 1, 200_000, 4);
    Process writing = launch(args(big, catalog), dir.resolve("writing.log"));
    Poll.until(
        Duration.ofMinutes(3),
        () -> !writing.isAlive() || parquetFiles(data).size() > committedFiles);
    boolean killedWriting = writing.isAlive();
    writing.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    assertThat(
        "killed while writing: " + Files.readString(dir.resolve("writing.log")),
        killedWriting,
        is(true));
    assertThat("no row of the killed run is visible", ids(tables), equalTo(base));

    // 2. Killed at its commit: the catalog's row of the table is locked, so the commit waits on
    // the pointer swap after the pipeline has finished.
    try (Connection lock = DriverManager.getConnection(catalog, "postgres", "");
        Statement s = lock.createStatement()) {
      lock.setAutoCommit(false);
      s.executeQuery("SELECT 1 FROM iceberg_tables WHERE table_name = 'orders' FOR UPDATE").close();
      Process committing = launch(args(big, catalog), dir.resolve("committing.log"));
      Poll.until(Duration.ofMinutes(5), () -> !committing.isAlive() || commitWaits(db));
      boolean killedCommitting = committing.isAlive();
      committing.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      String log = Files.readString(dir.resolve("committing.log"), StandardCharsets.UTF_8);
      assertThat("killed at its commit: " + log, killedCommitting, is(true));
      assertThat("the pipeline had finished", log, containsString("written             200,000"));
      // The killed launcher's session would carry its pointer swap out once the lock goes (a
      // swap already sent lands whole, and a rerun replaces it all the same): end it as a commit
      // that never reached the catalog.
      SharedSandbox.count(
          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '"
              + db
              + "' AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE%iceberg_tables%'");
      lock.rollback();
    }
    assertThat("no row of the killed run is visible", ids(tables), equalTo(base));
    int left = parquetFiles(data).size() - committedFiles;
    assertThat("the killed runs left data files", left, greaterThan(0));

    // 3. A rerun converges: the base and the big input's rows, each key once.
    assertOk(run(args(big, catalog).toArray(String[]::new)));
    List<Long> all = idList(tables);
    assertThat(all.size(), is(200_010));
    assertThat(new HashSet<>(all).size(), is(200_010));
    assertThat(all.containsAll(base), is(true));

    // 4. maintain removes what the killed runs left behind; the rows stay.
    out.reset();
    assertOk(
        run(
            "maintain",
            "--output=iceberg:lake.orders",
            "--warehouse=" + dir.resolve("warehouse"),
            "--catalog=" + catalog,
            "--catalogUser=postgres",
            "--removeOrphans",
            "--orphanAge=PT0S"));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("removed " + left + " orphan"));
    assertThat(parquetFiles(data).size(), is(currentFiles(tables)));
    assertThat(idList(tables).size(), is(200_010));
  }

  /** Whether a session of the catalog's database waits on a lock to update the table's row. */
  private static boolean commitWaits(String db) throws Exception {
    return SharedSandbox.count(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '"
                + db
                + "' AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE%iceberg_tables%'")
        > 0;
  }

  private static List<Long> idList(IcebergCatalog catalog) throws Exception {
    return catalog.using(
        c -> {
          List<Long> ids = new ArrayList<>();
          try (CloseableIterable<Record> rows =
              IcebergGenerics.read(c.loadTable(TableIdentifier.parse("lake.orders"))).build()) {
            rows.forEach(r -> ids.add((Long) r.getField("order_id")));
          }
          return ids;
        });
  }

  private static Set<Long> ids(IcebergCatalog catalog) throws Exception {
    return new HashSet<>(idList(catalog));
  }

  private static Path dataDirectory(IcebergCatalog catalog) throws Exception {
    return catalog.using(
        c ->
            Path.of(
                    c.loadTable(TableIdentifier.parse("lake.orders"))
                        .location()
                        .replaceFirst("^file:", ""))
                .resolve("data"));
  }

  private static int currentFiles(IcebergCatalog catalog) throws Exception {
    return catalog.using(
        c -> {
          Table table = c.loadTable(TableIdentifier.parse("lake.orders"));
          int files = 0;
          try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask ignored : tasks) {
              files++;
            }
          }
          return files;
        });
  }

  private static List<Path> parquetFiles(Path data) throws Exception {
    if (!Files.isDirectory(data)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(data)) {
      return files.filter(f -> f.toString().endsWith(".parquet")).toList();
    }
  }
}

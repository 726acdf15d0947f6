package dev.sluice.io.iceberg;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.io.files.WriteDataFiles;
import dev.sluice.io.files.WrittenFile;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Iceberg tables from a contract, written per bundle and committed atomically, on the embedded
 * SQLite catalog: read back with Iceberg's own generic reader.
 */
@ExtendWith(TestPipelineExtension.class)
class IcebergTablesTest {
  private static final Schema ORDER = order(false);
  private static final TableIdentifier ID = TableIdentifier.parse("lake.orders");

  @TempDir Path dir;
  private IcebergCatalog catalog;

  private static Schema order(boolean withChannel) {
    SchemaBuilder.FieldAssembler<Schema> fields =
        SchemaBuilder.record("Order")
            .fields()
            .requiredLong("order_id")
            .name("amount")
            .type(LogicalTypes.decimal(12, 2).addToSchema(Schema.create(Schema.Type.BYTES)))
            .noDefault()
            .name("status")
            .type()
            .enumeration("Status")
            .symbols("NEW", "PAID")
            .noDefault()
            .name("created_at")
            .type(LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG)))
            .noDefault()
            .optionalString("note");
    return withChannel ? fields.optionalString("channel").endRecord() : fields.endRecord();
  }

  @BeforeEach
  void catalog() {
    catalog =
        new IcebergCatalog(
            "jdbc:sqlite:" + dir.resolve("catalog.db"),
            dir.resolve("warehouse").toString(),
            null,
            null);
  }

  private static Traced<GenericRecord> order(String file, long id, String amount, String at) {
    GenericRecord r = new GenericData.Record(ORDER);
    r.put("order_id", id);
    r.put("amount", ByteBuffer.wrap(new BigDecimal(amount).unscaledValue().toByteArray()));
    r.put("status", new GenericData.EnumSymbol(ORDER.getField("status").schema(), "NEW"));
    r.put("created_at", Instant.parse(at).toEpochMilli());
    r.put("note", id % 2 == 0 ? null : "n" + id);
    return Traced.of(
        SourceRecord.of("file:" + file + "#" + id, ("" + id).getBytes(StandardCharsets.UTF_8)), r);
  }

  private List<WrittenFile> write(
      TestPipeline pipeline, String list, List<Traced<GenericRecord>> rows) throws Exception {
    pipeline
        .apply(Create.of(rows).withCoder(Traced.coder(AvroCoder.of(ORDER))))
        .apply(
            WriteDataFiles.to(
                IcebergFiles.of(catalog, "lake.orders"), list, "p", "iceberg:lake.orders"));
    pipeline.run().waitUntilFinish();
    return WriteDataFiles.listed(list);
  }

  private List<String> rows() throws Exception {
    List<String> out = new ArrayList<>();
    Catalog c = catalog.open();
    try (CloseableIterable<Record> records = IcebergGenerics.read(c.loadTable(ID)).build()) {
      for (Record r : records) {
        out.add(
            r.getField("order_id")
                + " "
                + r.getField("amount")
                + " "
                + r.getField("status")
                + " "
                + r.getField("created_at")
                + " "
                + r.getField("note"));
      }
    } finally {
      ((AutoCloseable) c).close();
    }
    return out;
  }

  private final List<Catalog> opened = new ArrayList<>();

  /** The table as {@code contract} makes or checks it, through a catalog left open for the test. */
  private Table ensure(Schema contract) {
    Catalog c = catalog.open();
    opened.add(c);
    return IcebergTables.ensure(c, ID, contract, "day(created_at)");
  }

  @org.junit.jupiter.api.AfterEach
  void close() throws Exception {
    for (Catalog c : opened) {
      ((AutoCloseable) c).close();
    }
  }

  @Test
  void writtenFilesBecomeTheTableInOneCommitAndARerunReplacesItsOwnFiles(TestPipeline pipeline)
      throws Exception {
    Table table = ensure(ORDER);
    assertThat(table.spec().fields().get(0).transform().toString(), is("day"));
    assertThat(org.apache.iceberg.TableUtil.formatVersion(table), is(2));
    List<WrittenFile> files =
        write(
            pipeline,
            dir.resolve("list-1").toString(),
            List.of(
                order("/in/a.csv", 1, "19.99", "2026-11-24T09:00:00Z"),
                order("/in/a.csv", 2, "0.10", "2026-11-25T23:59:59.999Z")));
    assertThat("a file per day", files.size(), is(2));
    String a = files.get(0).stem();
    IcebergCommit.Committed first =
        IcebergCommit.commit(
            catalog, "lake.orders", files, List.of(a), Map.of("sluice.run", "r1"), "run-1", null);
    assertThat(first.added(), is(2));
    assertThat(
        rows(),
        containsInAnyOrder(
            "1 19.99 NEW 2026-11-24T09:00Z n1", "2 0.10 NEW 2026-11-25T23:59:59.999Z null"));

    // The same commit again (a retried step) changes nothing.
    assertThat(
        IcebergCommit.commit(catalog, "lake.orders", files, List.of(a), Map.of(), "run-1", null)
            .repeated(),
        is(true));
    assertThat(rows().size(), is(2));

    // The same input's files again: they replace its own files, the rows stay the same.
    IcebergCommit.Committed rerun =
        IcebergCommit.commit(catalog, "lake.orders", files, List.of(a), Map.of(), "run-2", null);
    assertThat(rerun.removed(), is(2));
    assertThat(rerun.added(), is(2));
    assertThat(rows().size(), is(2));
  }

  @Test
  void aBreakingContractIsRefusedNamingTheFieldAndAnOptionalOneIsAdded() throws Exception {
    ensure(ORDER);
    Table table = ensure(order(true));
    assertThat(table.schema().findField("channel").isOptional(), is(true));

    Schema breaking =
        SchemaBuilder.record("Order")
            .fields()
            .requiredString("order_id")
            .name("created_at")
            .type(LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG)))
            .noDefault()
            .endRecord();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ensure(breaking));
    assertThat(e.getMessage(), containsString("column 'order_id' is long"));
    assertThat(e.getMessage(), containsString("breaking"));
  }

  @Test
  void partitionByTakesIcebergTransformsAndNamesAnUnknownField() {
    org.apache.iceberg.Schema schema = IcebergTables.schemaOf(ORDER);
    assertThat(
        IcebergTables.partitionSpec(schema, "bucket(8, order_id), month(created_at)")
            .fields()
            .size(),
        equalTo(2));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> IcebergTables.partitionSpec(schema, "day(shipped_at)"));
    assertThat(e.getMessage(), containsString("'shipped_at' is not a field of the contract"));
  }

  /**
   * A change committed to an audit branch is not in main; published, main has it and the branch is
   * gone. When main moved meanwhile (another input's commit), the change is committed again on
   * main, keeping the other input's rows. Publishing again does nothing.
   */
  @Test
  void anAuditBranchIsPublishedByFastForwardOrAgainOnAMainThatMoved(TestPipeline pipeline)
      throws Exception {
    ensure(ORDER);
    List<WrittenFile> both =
        write(
            pipeline,
            dir.resolve("list").toString(),
            List.of(
                order("/in/a.csv", 1, "1.00", "2026-11-24T09:00:00Z"),
                order("/in/b.csv", 2, "2.00", "2026-11-25T09:00:00Z")));
    List<WrittenFile> a = both.stream().filter(f -> f.partition().contains("2026-11-24")).toList();
    List<WrittenFile> b = both.stream().filter(f -> f.partition().contains("2026-11-25")).toList();
    assertThat(a.size() + "+" + b.size(), is("1+1"));
    IcebergCommit.Change change =
        new IcebergCommit.Change(a, List.of(a.get(0).stem()), Map.of(), "run-a", null);
    IcebergCommit.Committed audited =
        IcebergCommit.commit(catalog, "lake.orders", change, "audit-a");
    assertThat(audited.added(), is(1));
    assertThat("main has nothing yet", rows().size(), is(0));

    // Main moves: another input lands straight on main.
    IcebergCommit.commit(
        catalog, "lake.orders", b, List.of(b.get(0).stem()), Map.of(), "run-b", null);

    IcebergCommit.Committed published =
        IcebergCommit.publish(catalog, "lake.orders", change, "audit-a");
    assertThat("committed again on main", published.added(), is(1));
    assertThat(
        rows(),
        containsInAnyOrder("1 1.00 NEW 2026-11-24T09:00Z n1", "2 2.00 NEW 2026-11-25T09:00Z null"));
    assertThat(catalog.using(c -> c.loadTable(ID).refs().keySet()), equalTo(Set.of("main")));
    assertThat(
        IcebergCommit.publish(catalog, "lake.orders", change, "audit-a").repeated(), is(true));
    assertThat(rows().size(), is(2));
  }

  /**
   * A merging stream's pane replayed after a failure (its commit landed) finds its commit id and
   * applies nothing; a later pane replaces a key's row only with a newer version (here a
   * timestamp), never with an older one.
   */
  @Test
  void aReplayedMergePaneAddsNothingAndOnlyNewerVersionsReplace() throws Exception {
    ensure(ORDER);
    MergeIcebergRows.MergeFn merge =
        new MergeIcebergRows.MergeFn(
            new MergeIcebergRows.Spec(
                catalog,
                "lake.orders",
                null,
                List.of("order_id"),
                "created_at",
                "p",
                "part-m",
                "run1",
                null,
                new LinkedHashMap<>(),
                null,
                null));
    IntervalWindow window =
        new IntervalWindow(new org.joda.time.Instant(0), new org.joda.time.Instant(60_000));
    List<Traced<GenericRecord>> first =
        List.of(
            order("/in/a.csv", 1, "1.00", "2026-11-24T09:00:00Z"),
            order("/in/a.csv", 2, "2.00", "2026-11-24T09:00:00Z"));
    merge.mergeInto(first, window, PaneInfo.NO_FIRING);
    assertThat(
        rows(),
        containsInAnyOrder("1 1.00 NEW 2026-11-24T09:00Z n1", "2 2.00 NEW 2026-11-24T09:00Z null"));
    int snapshots = catalog.using(c -> snapshotCount(c.loadTable(ID)));

    // The same pane again, as a retried bundle would run it: its commit id is in the table, so
    // nothing is applied, not even a version the guard alone would let through.
    merge.mergeInto(
        List.of(order("/in/a.csv", 1, "7.00", "2026-11-24T11:00:00Z")), window, PaneInfo.NO_FIRING);
    assertThat(catalog.using(c -> snapshotCount(c.loadTable(ID))), is(snapshots));
    assertThat(
        rows(),
        containsInAnyOrder("1 1.00 NEW 2026-11-24T09:00Z n1", "2 2.00 NEW 2026-11-24T09:00Z null"));

    IntervalWindow next =
        new IntervalWindow(new org.joda.time.Instant(60_000), new org.joda.time.Instant(120_000));
    merge.mergeInto(
        List.of(
            order("/in/b.csv", 1, "1.50", "2026-11-24T10:00:00Z"),
            order("/in/b.csv", 2, "9.99", "2026-11-24T08:00:00Z")),
        next,
        PaneInfo.NO_FIRING);
    assertThat(
        rows(),
        containsInAnyOrder("1 1.50 NEW 2026-11-24T10:00Z n1", "2 2.00 NEW 2026-11-24T09:00Z null"));
  }

  /**
   * A streaming run's window commit replayed after a failure (the runner retries the bundle that
   * committed) finds its id in the table and adds nothing; the next window's commit lands.
   */
  @Test
  void aReplayedWindowCommitAddsNothing(TestPipeline pipeline) throws Exception {
    ensure(ORDER);
    List<WrittenFile> files =
        write(
            pipeline,
            dir.resolve("list").toString(),
            List.of(
                order("/in/a.csv", 1, "1.00", "2026-11-24T09:00:00Z"),
                order("/in/b.csv", 2, "2.00", "2026-11-25T09:00:00Z")));
    WriteIcebergWindows.CommitFn commit =
        new WriteIcebergWindows.CommitFn(
            new WriteIcebergWindows.Commits(
                catalog, "lake.orders", "p", "run1", null, new LinkedHashMap<>(), null));
    IntervalWindow window =
        new IntervalWindow(new org.joda.time.Instant(0), new org.joda.time.Instant(60_000));
    String first = commit.commit(files.subList(0, 1), window, PaneInfo.NO_FIRING);
    assertThat(first, containsString("p/lake.orders/run1/" + window + "/0 -> snapshot "));
    assertThat(first, containsString("(+1 file(s), 1 row(s); -0 replaced)"));
    int snapshots = catalog.using(c -> snapshotCount(c.loadTable(ID)));

    String replayed = commit.commit(files.subList(0, 1), window, PaneInfo.NO_FIRING);
    assertThat(replayed, containsString("(committed already)"));
    assertThat(rows().size(), is(1));
    assertThat(catalog.using(c -> snapshotCount(c.loadTable(ID))), is(snapshots));

    IntervalWindow next =
        new IntervalWindow(new org.joda.time.Instant(60_000), new org.joda.time.Instant(120_000));
    assertThat(
        commit.commit(files.subList(1, 2), next, PaneInfo.NO_FIRING),
        containsString("(+1 file(s), 1 row(s); -0 replaced)"));
    assertThat(rows().size(), is(2));
  }

  /**
   * A table's files go through the file system of their location's scheme: local paths through
   * Hadoop's, gs:// through Iceberg's GCSFileIO (which is on the classpath).
   */
  @Test
  void filesResolveByTheirSchemeLocalAndGcs() {
    Table table = ensure(ORDER);
    org.apache.iceberg.io.ResolvingFileIO io = (org.apache.iceberg.io.ResolvingFileIO) table.io();
    assertThat(io.ioClass(table.location()).getSimpleName(), is("HadoopFileIO"));
    assertThat(io.ioClass("gs://bucket/warehouse/lake/orders").getSimpleName(), is("GCSFileIO"));
  }

  /** A catalog URL carrying a password is refused as a JDBC URL is, naming where it belongs. */
  @Test
  void aCatalogUrlCarryingAPasswordIsRefusedWithoutEchoingIt() {
    for (String uri :
        List.of(
            "jdbc:postgresql://db/catalog?user=app&PASSWORD=CANARY",
            "jdbc:postgresql://app:CANARY@db/catalog")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> new IcebergCatalog(uri, dir.toString(), "app", null));
      assertThat(e.getMessage(), containsString("--catalog must not carry a password"));
      assertThat(e.getMessage(), containsString("--catalogPassword=env:NAME or file:PATH"));
      assertThat(e.getMessage().contains("CANARY"), is(false));
    }
  }

  private static int snapshotCount(Table table) {
    int n = 0;
    for (org.apache.iceberg.Snapshot ignored : table.snapshots()) {
      n++;
    }
    return n;
  }
}

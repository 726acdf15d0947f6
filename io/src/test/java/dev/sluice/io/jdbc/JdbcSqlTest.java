package dev.sluice.io.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The SQL of io/jdbc against a real PostgreSQL: the versioned upsert and its merges, the staging
 * table, the incremental read's ranges (boundaries and NULLs), the export state and the table
 * check.
 */
class JdbcSqlTest {
  private static final Schema ITEM =
      SchemaBuilder.record("Item")
          .fields()
          .requiredLong("id")
          .requiredString("name")
          .requiredLong("version")
          .endRecord();
  private static final UpsertSql UPSERT = UpsertSql.of("items", ITEM, List.of("id"), "version");

  @BeforeEach
  void tables() throws Exception {
    EmbeddedDatabase.execute(
        "DROP TABLE IF EXISTS items, items_in, items_gone, events, sluice_export_state;"
            + " CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL,"
            + " version bigint NOT NULL);"
            + " CREATE TABLE items_in (id bigint, name text, version bigint);"
            + " CREATE TABLE events (id bigint, at timestamptz, amount numeric(10,2));"
            + " CREATE TABLE sluice_export_state (export_name text PRIMARY KEY,"
            + " watermark_column text NOT NULL, high_watermark text, rows_exported bigint NOT NULL,"
            + " committed_at timestamptz NOT NULL DEFAULT now())");
  }

  private static void upsert(long id, String name, long version) throws Exception {
    try (Connection c = EmbeddedDatabase.open();
        PreparedStatement s = c.prepareStatement(UPSERT.values())) {
      s.setLong(1, id);
      s.setString(2, name);
      s.setLong(3, version);
      s.executeUpdate();
    }
  }

  @Test
  void theUpsertTakesNewerVersionsOnlyAndBreaksTiesTheSameWayInEitherOrder() throws Exception {
    upsert(1, "first", 2);
    upsert(1, "older", 1);
    assertThat(EmbeddedDatabase.rows("SELECT * FROM items"), contains("1|first|2"));
    upsert(1, "newer", 3);
    assertThat(EmbeddedDatabase.rows("SELECT * FROM items"), contains("1|newer|3"));

    // Two different rows of one version: the same one wins whichever comes first.
    upsert(2, "a", 5);
    upsert(2, "b", 5);
    String oneOrder = EmbeddedDatabase.rows("SELECT name FROM items WHERE id = 2").get(0);
    EmbeddedDatabase.execute("DELETE FROM items WHERE id = 2");
    upsert(2, "b", 5);
    upsert(2, "a", 5);
    assertThat(
        EmbeddedDatabase.rows("SELECT name FROM items WHERE id = 2").get(0), equalTo(oneOrder));
  }

  /**
   * After an upsert, the rows of its source that the table does not hold at their version or a
   * newer one are the rows that were not applied; stale rows (the table newer) and written rows are
   * not among them, nor are keys deleted for good at a newer version.
   */
  @Test
  void notAppliedFindsTheRowsTheTableDoesNotHoldAtTheirVersionOrNewer() throws Exception {
    upsert(1, "newer", 5);
    upsert(2, "same", 3);
    upsert(3, "older", 1);
    EmbeddedDatabase.execute(
        "INSERT INTO items_in VALUES (1, 'stale', 4), (2, 'same', 3), (3, 'lost', 2),"
            + " (4, 'missing', 1)");
    assertThat(
        EmbeddedDatabase.rows(
            UPSERT.notApplied("items_in", UPSERT.keyColumnsOfSource()) + " ORDER BY 1"),
        contains("3", "4"));

    EmbeddedDatabase.execute(
        "DROP TABLE IF EXISTS items_gone; CREATE TABLE items_gone (id bigint PRIMARY KEY,"
            + " version bigint NOT NULL); INSERT INTO items_gone VALUES (4, 7), (3, 1)");
    UpsertSql withDeletes = UPSERT.withDeletedKeys("items_gone");
    assertThat(
        EmbeddedDatabase.rows(withDeletes.notApplied("items_in", "sluice_b.name")),
        contains("lost"));
  }

  @Test
  void theMergeTakesTheNewestVersionOfEachKeyOfItsSource() throws Exception {
    upsert(1, "kept", 9);
    EmbeddedDatabase.execute(
        "INSERT INTO items_in VALUES (1, 'stale', 3), (2, 'v1', 1), (2, 'v3', 3), (2, 'v2', 2),"
            + " (3, 'only', 1)");
    EmbeddedDatabase.execute(UPSERT.mergeFrom("items_in"));
    assertThat(
        EmbeddedDatabase.rows("SELECT * FROM items ORDER BY id"),
        contains("1|kept|9", "2|v3|3", "3|only|1"));
  }

  @Test
  void keysDeletedForGoodKeepOlderWritesOutAndNewerOnesIn() throws Exception {
    EmbeddedDatabase.execute(
        "DROP TABLE IF EXISTS items_gone; ALTER TABLE items ADD COLUMN gone boolean NOT NULL"
            + " DEFAULT false; CREATE TABLE items_gone (id bigint PRIMARY KEY, version bigint NOT"
            + " NULL); INSERT INTO items VALUES (1, 'one', 5, true), (2, 'two', 4, false);"
            + " INSERT INTO items_gone VALUES (1, 3)");
    Schema withFlag =
        SchemaBuilder.record("Item")
            .fields()
            .requiredLong("id")
            .requiredString("name")
            .requiredLong("version")
            .requiredBoolean("gone")
            .endRecord();
    UpsertSql hard =
        UpsertSql.of("items", withFlag, List.of("id"), "version").withDeletedKeys("items_gone");
    try (Connection c = EmbeddedDatabase.open()) {
      c.createStatement().executeQuery(hard.probeDeletedKeys()).close();
    }
    // The purge moves row 1 out, keeping the newer of the two delete versions.
    EmbeddedDatabase.execute(hard.purgeDeleted("gone"));
    assertThat(EmbeddedDatabase.rows("SELECT * FROM items ORDER BY id"), contains("2|two|4|f"));
    assertThat(EmbeddedDatabase.rows("SELECT * FROM items_gone"), contains("1|5"));
    // An older write of key 1 stays out, a newer one comes in; prepared and merged alike.
    for (long version : new long[] {4, 5, 6}) {
      try (Connection c = EmbeddedDatabase.open();
          PreparedStatement s = c.prepareStatement(hard.values())) {
        s.setLong(1, 1);
        s.setString(2, "again " + version);
        s.setLong(3, version);
        s.setBoolean(4, false);
        s.executeUpdate();
      }
    }
    EmbeddedDatabase.execute(
        "CREATE TABLE items_in2 (id bigint, name text, version bigint, gone boolean);"
            + " INSERT INTO items_in2 VALUES (1, 'merged old', 5, false), (3, 'three', 1, false)");
    EmbeddedDatabase.execute(hard.mergeFrom("items_in2"));
    EmbeddedDatabase.execute("DROP TABLE items_in2");
    assertThat(
        EmbeddedDatabase.rows("SELECT * FROM items ORDER BY id"),
        contains("1|again 6|6|f", "2|two|4|f", "3|three|1|f"));
  }

  @Test
  void identifiersAreCheckedAndQuoted() {
    assertThat(
        UPSERT.values(), containsString("INSERT INTO \"items\" (\"id\", \"name\", \"version\")"));
    assertThat(UPSERT.values(), containsString("ON CONFLICT (\"id\") DO UPDATE SET"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> UpsertSql.of("items; DROP TABLE items", ITEM, List.of("id"), "version"));
    assertThat(e.getMessage(), containsString("is not a valid SQL identifier"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> UpsertSql.of("items", ITEM, List.of("id"), "name"));
    assertThat(e.getMessage(), containsString("version field 'name' must be a long or int"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> UpsertSql.of("items", ITEM, List.of("sku"), "version"));
    assertThat(e.getMessage(), containsString("key field 'sku' is not a field of schema Item"));
  }

  @Test
  void aStagingTableIsCreatedMergedAtomicallyAndDropped() throws Exception {
    JdbcConnection db = EmbeddedDatabase.connection();
    upsert(1, "table", 5);
    StagingTable stage = StagingTable.next(db, "items");
    stage.create();
    EmbeddedDatabase.execute(
        "INSERT INTO " + stage.staging() + " VALUES (1, 'older', 4), (2, 'staged', 1)");
    assertThat(EmbeddedDatabase.rows("SELECT * FROM items ORDER BY id"), contains("1|table|5"));

    stage.mergeAndDrop(UPSERT);

    assertThat(
        EmbeddedDatabase.rows("SELECT * FROM items ORDER BY id"),
        contains("1|table|5", "2|staged|1"));
    assertThat(
        EmbeddedDatabase.count(
            "SELECT count(*) FROM pg_tables WHERE tablename = '" + stage.staging() + "'"),
        is(0L));
    stage.drop(); // already gone: nothing to do, no error
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> stage.mergeAndDrop(UPSERT.into("other")));
    assertThat(e.getMessage(), containsString("must write items, not other"));
  }

  @Test
  void theRangesOfAnIncrementalReadCoverEveryRowOnceBoundariesAndNullsIncluded() throws Exception {
    StringBuilder rows = new StringBuilder("INSERT INTO events VALUES ");
    for (int i = 0; i < 40; i++) {
      rows.append(i == 0 ? "" : ", ")
          .append("(")
          .append(i % 7 == 0 ? "NULL" : String.valueOf(i % 10))
          .append(", '2026-01-01T00:00:00Z'::timestamptz + interval '")
          .append(i)
          .append(" hours', ")
          .append(i)
          .append(")");
    }
    EmbeddedDatabase.execute(rows.toString());
    EmbeddedDatabase.execute("INSERT INTO events VALUES (5, NULL, 0)");
    IncrementalRead read =
        IncrementalRead.ofTable("events").withWatermarkColumn("at").withPartitionColumn("id", 4);

    IncrementalRead.Planned planned;
    try (Connection c = EmbeddedDatabase.open()) {
      planned = read.plan(c);
    }

    assertThat(planned.ranges().size(), is(5)); // 4 ranges and the NULL one
    assertThat(planned.low(), is((String) null));
    assertThat(planned.high(), equalTo("2026-01-02 15:00:00+00"));
    assertThat(rowsOf(planned), is(41L)); // every row once, NULL ids and the NULL watermark too
    assertThat(
        planned.avro().schema().getField("amount").schema().toString(), containsString("decimal"));
  }

  @Test
  void anIncrementalReadGoesOnFromTheCommittedWatermarkAndCommitsItsOwn() throws Exception {
    EmbeddedDatabase.execute(
        "INSERT INTO events VALUES (1, '2026-01-01T00:00:00Z', 1), (2, '2026-01-02T00:00:00Z', 2),"
            + " (3, '2026-01-03T00:00:00Z', 3), (4, NULL, 4)");
    ExportState state = new ExportState("sluice_export_state");
    try (Connection c = EmbeddedDatabase.open()) {
      assertThat(state.highWatermark(c, "events"), is(Optional.empty()));
      state.commit(c, "events", "at", "2026-01-01 00:00:00+00", 1);
      assertThat(state.highWatermark(c, "events"), is(Optional.of("2026-01-01 00:00:00+00")));
    }
    IncrementalRead read =
        IncrementalRead.ofTable("events")
            .withWatermarkColumn("at")
            .withPartitionColumn("id", 2)
            .withState(state, "events");
    IncrementalRead.Planned planned;
    IncrementalRead.Planned full;
    try (Connection c = EmbeddedDatabase.open()) {
      planned = read.plan(c);
      full = read.withFullRefresh(true).plan(c);
    }
    assertThat(planned.low(), equalTo("2026-01-01 00:00:00+00"));
    assertThat(planned.committed(), equalTo("2026-01-03 00:00:00+00"));
    assertThat(rowsOf(planned), is(2L)); // after the watermark; the NULL one was read before
    assertThat(rowsOf(full), is(4L));
  }

  @Test
  void aWatermarkColumnOfAnotherTypeIsRefusedNamingIt() throws Exception {
    EmbeddedDatabase.execute("ALTER TABLE events ADD COLUMN label text");
    IncrementalRead read = IncrementalRead.ofTable("events").withWatermarkColumn("label");
    try (Connection c = EmbeddedDatabase.open()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read.plan(c));
      assertThat(
          e.getMessage(),
          containsString(
              "--watermarkColumn label is text; it must be a timestamp, date or number"));
    }
  }

  @Test
  void theSplitPredicatesAreHalfOpenWithANullRange() {
    List<IncrementalRead.Range> ranges =
        IncrementalRead.split(
            new IncrementalRead.Range("w > ?", List.of("0")),
            "\"id\"",
            "int8",
            List.of("10", "20"));
    List<String> predicates = new ArrayList<>();
    ranges.forEach(r -> predicates.add(r.predicate() + " " + r.values()));
    assertThat(
        predicates,
        contains(
            "(w > ?) AND (\"id\" < CAST(? AS int8)) [0, 10]",
            "(w > ?) AND (\"id\" >= CAST(? AS int8) AND \"id\" < CAST(? AS int8)) [0, 10, 20]",
            "(w > ?) AND (\"id\" >= CAST(? AS int8)) [0, 20]",
            "(w > ?) AND (\"id\" IS NULL) [0]"));
  }

  @Test
  void theTableCheckNamesEachDifference() throws Exception {
    EmbeddedDatabase.execute("ALTER TABLE items DROP COLUMN name");
    try (Connection c = EmbeddedDatabase.open()) {
      TableCheck.MismatchException e =
          assertThrows(
              TableCheck.MismatchException.class,
              () -> TableCheck.verify(c, "items", ITEM, List.of("id")));
      assertThat(e.differences().toString(), containsString("column name is missing"));
      e =
          assertThrows(
              TableCheck.MismatchException.class,
              () -> TableCheck.verify(c, "nothing_here", ITEM, List.of("id")));
      assertThat(e.differences().toString(), containsString("table nothing_here does not exist"));
    }
  }

  /** The rows the plan's ranges select, summed over the ranges. */
  private static long rowsOf(IncrementalRead.Planned planned) throws Exception {
    long total = 0;
    try (Connection c = EmbeddedDatabase.open()) {
      for (IncrementalRead.Range range : planned.ranges()) {
        try (PreparedStatement s =
            c.prepareStatement("SELECT count(*) FROM (" + planned.select(range) + ") AS r")) {
          IncrementalRead.bind(s, range.values());
          try (var rs = s.executeQuery()) {
            rs.next();
            total += rs.getLong(1);
          }
        }
      }
    }
    return total;
  }
}

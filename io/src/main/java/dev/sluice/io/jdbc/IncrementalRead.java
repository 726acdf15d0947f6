package dev.sluice.io.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;

/**
 * An incremental, partitioned read of a table or a query, in JdbcIO's shape: configured with {@code
 * withX}, planned once against the database ({@link #plan}, read only), and read by {@link
 * ReadRanges} from the plan alone.
 *
 * <p>A run reads the rows whose watermark column is above the export's committed high-watermark
 * (none: every row, NULLs included) and at or below the column's maximum when the run is planned,
 * split into ranges of the partition column: {@code c < b1}, {@code b1 <= c < b2}, ..., {@code c >=
 * b(n-1)} and {@code c IS NULL}, with boundaries spread evenly between the column's minimum and
 * maximum among those rows. Half-open ranges cover every row exactly once, boundary rows and NULLs
 * included.
 *
 * @param table the table to read, or null for {@code query}
 * @param query one SELECT to read instead of a table, or null
 * @param watermarkColumn the column whose maximum is the run's high-watermark
 * @param partitionColumn the column the ranges split, or null for one range
 * @param numPartitions how many ranges (besides the NULL one) to split into
 * @param state where the committed high-watermark is kept, or null to read everything
 * @param exportName the export's name in {@code state}
 * @param fullRefresh read everything, whatever {@code state} says
 * @param target the high-watermark the target holds (an Iceberg table's commits), used instead of
 *     {@code state} when set: {@code Optional.empty()} when it holds none
 */
public record IncrementalRead(
    @Nullable String table,
    @Nullable String query,
    @Nullable String watermarkColumn,
    @Nullable String partitionColumn,
    int numPartitions,
    @Nullable ExportState state,
    @Nullable String exportName,
    boolean fullRefresh,
    @Nullable Target target)
    implements Serializable {
  /** The high-watermark a target keeps itself, or null when it holds none yet. */
  public record Target(@Nullable String highWatermark) implements Serializable {}

  static final Set<String> WATERMARK_TYPES =
      Set.of("timestamptz", "timestamp", "date", "int2", "int4", "int8", "numeric");
  static final Set<String> PARTITION_TYPES =
      Set.of("timestamptz", "timestamp", "int2", "int4", "int8", "numeric", "float4", "float8");

  /** Reads {@code table} (schema-qualified or not). */
  public static IncrementalRead ofTable(String table) {
    SqlIdentifiers.parts("table", table);
    return new IncrementalRead(table, null, null, null, 1, null, null, false, null);
  }

  /** Reads the rows of one SELECT, checked to be one query. */
  public static IncrementalRead ofQuery(String query) {
    return new IncrementalRead(
        null, SqlQuery.checkSingleQuery("query", query), null, null, 1, null, null, false, null);
  }

  public IncrementalRead withWatermarkColumn(String column) {
    SqlIdentifiers.checkPart("watermarkColumn", column, column);
    return new IncrementalRead(
        table,
        query,
        column,
        partitionColumn,
        numPartitions,
        state,
        exportName,
        fullRefresh,
        target);
  }

  /** Splits the read into {@code partitions} ranges of {@code column} (null: one range). */
  public IncrementalRead withPartitionColumn(@Nullable String column, int partitions) {
    if (column != null) {
      SqlIdentifiers.checkPart("partitionColumn", column, column);
    }
    checkArgument(partitions >= 1, "numPartitions must be >= 1, but was %s", partitions);
    return new IncrementalRead(
        table, query, watermarkColumn, column, partitions, state, exportName, fullRefresh, target);
  }

  /** Reads on from the high-watermark that {@code state} holds for {@code export}. */
  public IncrementalRead withState(ExportState state, String export) {
    checkArgument(export != null && !export.isBlank(), "exportName must be a name");
    return new IncrementalRead(
        table,
        query,
        watermarkColumn,
        partitionColumn,
        numPartitions,
        state,
        export,
        fullRefresh,
        target);
  }

  /** Reads every row, whatever was committed before. */
  public IncrementalRead withFullRefresh(boolean fullRefresh) {
    return new IncrementalRead(
        table,
        query,
        watermarkColumn,
        partitionColumn,
        numPartitions,
        state,
        exportName,
        fullRefresh,
        target);
  }

  /**
   * Reads on from the high-watermark the target holds (an Iceberg table's last commit of this
   * export), not from a state table.
   */
  public IncrementalRead withTarget(Target target) {
    checkArgument(target != null, "target must not be null");
    return new IncrementalRead(
        table,
        query,
        watermarkColumn,
        partitionColumn,
        numPartitions,
        null,
        exportName,
        fullRefresh,
        target);
  }

  /** A range of the read: a predicate with {@code ?} placeholders and their values (as text). */
  public record Range(String predicate, List<String> values) implements Serializable {
    public Range {
      values = List.copyOf(values);
    }
  }

  /**
   * What a run reads, fixed when it starts.
   *
   * @param relation the quoted table, or the query as a derived table
   * @param label the table's name or {@code query}, for origins, lineage and messages
   * @param avro the relation's columns and their Avro schema
   * @param low the committed high-watermark read on from (exclusive), or null for everything
   * @param high the watermark column's maximum now (inclusive), or null when it has no value
   * @param ranges the predicates that split the read, each row in exactly one
   * @param keyColumn the column named in each row's origin, or null
   */
  public record Planned(
      String relation,
      String label,
      JdbcAvro avro,
      @Nullable String low,
      @Nullable String high,
      List<Range> ranges,
      @Nullable String keyColumn)
      implements Serializable {
    public Planned {
      ranges = List.copyOf(ranges);
    }

    /** The high-watermark to commit after the run: the new maximum, or the old one if none. */
    public @Nullable String committed() {
      return high != null ? high : low;
    }

    /** The statement of one range. */
    public String select(Range range) {
      return "SELECT * FROM " + relation + " WHERE " + range.predicate();
    }
  }

  /** The relation as SQL: the quoted table, or the query as a derived table. */
  String relation() {
    checkArgument((table == null) != (query == null), "give exactly one of table and query");
    // The newline keeps a trailing comment of the query from swallowing the parenthesis.
    return table != null
        ? SqlIdentifiers.quote("table", table)
        : "(" + query + "\n) AS sluice_source";
  }

  /**
   * Asks the database what this run reads, in a READ ONLY transaction whatever the query says: the
   * relation's columns, the watermark range and the partition boundaries. Leaves {@code c} read
   * only and out of auto-commit: a connection for planning, closed by the caller.
   */
  public Planned plan(Connection c) throws SQLException {
    checkArgument(watermarkColumn != null, "an incremental read needs withWatermarkColumn");
    c.setAutoCommit(false);
    c.setReadOnly(true);
    Planned planned;
    try {
      planned = planReadOnly(c);
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException rollback) {
        e.addSuppressed(rollback); // the planning error is the one to report
      }
      throw e;
    }
    c.rollback();
    return planned;
  }

  private Planned planReadOnly(Connection c) throws SQLException {
    String relation = relation();
    String label;
    String recordName;
    if (table != null) {
      label = table;
      List<String> parts = SqlIdentifiers.parts("table", table);
      recordName = parts.get(parts.size() - 1);
    } else {
      label = "query";
      recordName = "query";
    }
    JdbcAvro avro = JdbcAvro.describe(c, relation, recordName);
    String type = avro.typeOf(watermarkColumn);
    if (!WATERMARK_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "--watermarkColumn "
              + watermarkColumn
              + " is "
              + type
              + "; it must be a timestamp, date or number");
    }
    String low =
        fullRefresh
            ? null
            : target != null
                ? target.highWatermark()
                : state == null ? null : state.highWatermark(c, exportName).orElse(null);
    String high;
    String w = quote(watermarkColumn);
    try (PreparedStatement s = c.prepareStatement("SELECT max(" + w + ")::text FROM " + relation);
        ResultSet rs = s.executeQuery()) {
      rs.next();
      high = rs.getString(1);
    }
    Range watermarkRange = watermarkRange(w, type, low, high);
    List<Range> ranges = ranges(c, relation, avro, watermarkRange);
    return new Planned(relation, label, avro, low, high, ranges, partitionColumn);
  }

  /**
   * The rows above {@code low} and at or below {@code high}; NULLs only when reading everything.
   */
  static Range watermarkRange(String w, String type, @Nullable String low, @Nullable String high) {
    String cast = "CAST(? AS " + type + ")";
    if (high == null) {
      return new Range(low == null ? w + " IS NULL" : "false", List.of());
    }
    if (low == null) {
      return new Range("(" + w + " IS NULL OR " + w + " <= " + cast + ")", List.of(high));
    }
    return new Range(w + " > " + cast + " AND " + w + " <= " + cast, List.of(low, high));
  }

  private List<Range> ranges(Connection c, String relation, JdbcAvro avro, Range within)
      throws SQLException {
    if (partitionColumn == null || numPartitions == 1) {
      return List.of(new Range("(" + within.predicate() + ")", within.values()));
    }
    String type = avro.typeOf(partitionColumn);
    if (!PARTITION_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "--partitionColumn "
              + partitionColumn
              + " is "
              + type
              + "; it must be a number or a timestamp");
    }
    String col = quote(partitionColumn);
    String cast = "CAST(? AS " + type + ")";
    String min;
    String max;
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT min("
                + col
                + ")::text, max("
                + col
                + ")::text FROM "
                + relation
                + " WHERE "
                + within.predicate())) {
      bind(s, within.values());
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        min = rs.getString(1);
        max = rs.getString(2);
      }
    }
    List<String> boundaries = new ArrayList<>();
    if (min != null) {
      for (int i = 1; i < numPartitions; i++) {
        try (PreparedStatement s =
            c.prepareStatement(
                "SELECT CAST("
                    + cast
                    + " + ("
                    + cast
                    + " - "
                    + cast
                    + ") * CAST(? AS float8) AS "
                    + type
                    + ")::text")) {
          bind(s, List.of(min, max, min, String.valueOf((double) i / numPartitions)));
          try (ResultSet rs = s.executeQuery()) {
            rs.next();
            boundaries.add(rs.getString(1));
          }
        }
      }
    }
    return split(within, col, type, boundaries);
  }

  /**
   * The ranges of {@code within} split at {@code boundaries} of column {@code col} (quoted) of
   * {@code type}: below the first, between each pair, at or above the last, and NULL.
   */
  static List<Range> split(Range within, String col, String type, List<String> boundaries) {
    String cast = "CAST(? AS " + type + ")";
    String filter = "(" + within.predicate() + ") AND ";
    List<Range> ranges = new ArrayList<>();
    for (int i = 0; i <= boundaries.size(); i++) {
      List<String> values = new ArrayList<>(within.values());
      String predicate;
      if (boundaries.isEmpty()) {
        predicate = col + " IS NOT NULL";
      } else if (i == 0) {
        predicate = col + " < " + cast;
        values.add(boundaries.get(0));
      } else if (i == boundaries.size()) {
        predicate = col + " >= " + cast;
        values.add(boundaries.get(i - 1));
      } else {
        predicate = col + " >= " + cast + " AND " + col + " < " + cast;
        values.add(boundaries.get(i - 1));
        values.add(boundaries.get(i));
      }
      ranges.add(new Range(filter + "(" + predicate + ")", values));
    }
    ranges.add(new Range(filter + "(" + col + " IS NULL)", within.values()));
    return ranges;
  }

  static void bind(PreparedStatement s, List<String> values) throws SQLException {
    for (int i = 0; i < values.size(); i++) {
      s.setString(i + 1, values.get(i));
    }
  }

  private static String quote(String column) {
    return SqlIdentifiers.quotePart("column", column);
  }
}

package dev.sluice.pipelines.jdbctolake;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.files.LakeNames;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.files.LocalDirectory;
import dev.sluice.io.files.WriteLake;
import dev.sluice.io.jdbc.JdbcAvro;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcReferenceLookup;
import dev.sluice.io.jdbc.ReadRanges;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.io.jdbc.SqlQuery;
import dev.sluice.pipelines.core.DeadLetterSinks;
import dev.sluice.pipelines.core.LakeManifest;
import dev.sluice.pipelines.core.Rules;
import dev.sluice.pipelines.core.RunPlan;
import dev.sluice.pipelines.core.SluicePipeline;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * jdbc-to-lake: exports a PostgreSQL table (or query) to date-partitioned Avro files, in parallel
 * over ranges of a column, incrementally by a high-watermark, publishing atomically: files are
 * staged, published with a {@code _SUCCESS} manifest only after the run succeeded, and only then is
 * the high-watermark committed.
 */
public final class JdbcToLake implements SluicePipeline<JdbcToLakeOptions> {
  public static final String NAME = "jdbc-to-lake";
  private static final Set<String> WATERMARK_TYPES =
      Set.of("timestamptz", "timestamp", "date", "int2", "int4", "int8", "numeric");
  private static final Set<String> PARTITION_TYPES =
      Set.of("timestamptz", "timestamp", "int2", "int4", "int8", "numeric", "float4", "float8");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "A PostgreSQL table into date-partitioned Avro files: incremental, parallel, rerun-safe";
  }

  @Override
  public String lineage() {
    return "Exports the rows of --table (or --query) whose --watermarkColumn is above the last"
        + " committed high-watermark and at or below its maximum at the start of the run, reading"
        + " --numPartitions ranges of --partitionColumn in parallel, maps the columns to Avro,"
        + " dead-letters rows that do not fit to --deadLetter, writes Avro files under"
        + " --output/dt=<date of --partitionField>/, publishes them with a _SUCCESS manifest, then"
        + " commits the new high-watermark to --stateTable.";
  }

  @Override
  public Class<JdbcToLakeOptions> optionsClass() {
    return JdbcToLakeOptions.class;
  }

  /** What a run reads: the fixed part of its query, and its watermark range. */
  private record Plan(
      String relation,
      String label,
      JdbcAvro avro,
      String watermarkType,
      String low,
      String high,
      String filter,
      List<String> filterValues) {}

  @Override
  public RunPlan build(Pipeline pipeline, JdbcToLakeOptions options) {
    if ((options.getTable() == null) == (options.getQuery() == null)) {
      throw new IllegalArgumentException("Give exactly one of --table and --query");
    }
    if (options.getNumPartitions() < 1) {
      throw new IllegalArgumentException(
          "--numPartitions must be >= 1, but was " + options.getNumPartitions());
    }
    String watermark =
        SqlIdentifiers.checkPart(
            "watermarkColumn", options.getWatermarkColumn(), options.getWatermarkColumn());
    String partitionColumn =
        options.getPartitionColumn() == null
            ? null
            : SqlIdentifiers.checkPart(
                "partitionColumn", options.getPartitionColumn(), options.getPartitionColumn());
    LocalDirectory.checkWritable("output", options.getOutput());
    String export =
        options.getExportName() != null
            ? options.getExportName()
            : options.getTable() != null ? options.getTable() : "query";
    JdbcConnection connection =
        JdbcConnection.of(options.getJdbcUrl(), options.getJdbcUser(), options.getJdbcPassword())
            .allowingCleartextPassword(options.getAllowCleartextPassword());
    ExportState state = new ExportState(options.getStateTable());
    Plan plan;
    List<KV<String, List<String>>> ranges;
    try (Connection c = connection.openDirect()) {
      // Planning only reads: in a READ ONLY transaction, whatever --query says.
      c.setAutoCommit(false);
      c.setReadOnly(true);
      plan = plan(c, options, state, export, watermark);
      ranges = ranges(c, plan, partitionColumn, options.getNumPartitions());
    } catch (SQLException e) {
      throw new IllegalArgumentException(
          "Cannot plan the export from " + connection.safeUrl() + ": " + e.getMessage(), e);
    }
    // Files are named after the export and the range read: a rerun of the same range replaces its
    // own files, a full refresh replaces every file of this export, and other exports into the
    // same lake are never touched.
    boolean replaceAll = options.getFullRefresh() || plan.low() == null;
    String exportTag = LakeNames.tag(export);
    String runTag = exportTag + "-" + LakeNames.tag(replaceAll ? "full" : plan.low());
    String stem = LakeNames.stem(runTag);
    List<String> own = List.of(LakeNames.stem(replaceAll ? exportTag : runTag) + "-");
    DeadLetterSink deadLetterSink = DeadLetterSinks.from(options).forRun(runTag);
    Schema schema = plan.avro().schema();
    Rules rules = Rules.load(options, schema, NAME, new JdbcReferenceLookup(connection));
    String partitionField =
        options.getPartitionField() != null ? options.getPartitionField() : watermark;
    String output = options.getOutput().replaceAll("/+$", "");
    String staging = output + "/_sluice/staging-" + UUID.randomUUID();
    WriteLake lake =
        WriteLake.to(staging, schema, NAME)
            .partitionedBy(partitionField)
            .publishedAt(output)
            .namedBy(record -> stem);

    DeadLetterRouting.Collector deadLetters =
        DeadLetterRouting.register(pipeline, Accounting.of(NAME), deadLetterSink.writer());
    Result<KV<SourceRecord, GenericRecord>> rows =
        pipeline.apply(
            "ReadJdbc",
            ReadRanges.of(
                connection,
                plan.label(),
                "SELECT * FROM " + plan.relation() + " WHERE ",
                ranges,
                plan.avro(),
                partitionColumn,
                NAME));
    deadLetters.add(rows.deadLetters());
    PCollection<KV<SourceRecord, GenericRecord>> records = rows.output();
    if (rules != null) {
      records = rules.apply(records, deadLetters, false);
    }
    records.apply("WriteLake", lake);
    deadLetters.close();

    String committed = plan.high() != null ? plan.high() : plan.low();
    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put("lake", options.getOutput());
    outputs.put("watermark range", "(" + plan.low() + ", " + plan.high() + "]");
    outputs.put("dead letters", deadLetterSink.location());
    RunPlan.OnSuccess publish =
        summary -> {
          Map<String, Object> manifest = LakeManifest.of(NAME, schema, summary);
          manifest.put("export", export);
          manifest.put("source", plan.label());
          manifest.put("watermark_column", watermark);
          manifest.put("watermark_low_exclusive", plan.low());
          manifest.put("watermark_high_inclusive", plan.high());
          manifest.put("full_refresh", replaceAll);
          LakePublisher.publish(staging, output, own, manifest);
          try (Connection c = connection.openDirect()) {
            state.commit(c, export, watermark, committed, summary.written());
          }
        };
    String report =
        options.getRunReport() != null
            ? options.getRunReport()
            : output + "/_sluice/run-report.json";
    return new RunPlan(true, outputs, report, publish).withQuality(rules);
  }

  private static Plan plan(
      Connection c, JdbcToLakeOptions options, ExportState state, String export, String watermark)
      throws SQLException {
    String relation;
    String label;
    String recordName;
    if (options.getTable() != null) {
      relation = SqlIdentifiers.quote("table", options.getTable());
      label = options.getTable();
      List<String> parts = SqlIdentifiers.parts("table", options.getTable());
      recordName = parts.get(parts.size() - 1);
    } else {
      // One query, checked before it is sent; the newline keeps a trailing comment from
      // swallowing the closing parenthesis.
      relation =
          "(" + SqlQuery.checkSingleQuery("query", options.getQuery()) + "\n) AS sluice_source";
      label = "query";
      recordName = "query";
    }
    JdbcAvro avro = JdbcAvro.describe(c, relation, recordName);
    String type = avro.typeOf(watermark);
    if (!WATERMARK_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "--watermarkColumn "
              + watermark
              + " is "
              + type
              + "; it must be a timestamp, date or number");
    }
    String partitionField =
        options.getPartitionField() != null ? options.getPartitionField() : watermark;
    WriteLake.checkPartitionField(avro.schema(), partitionField);
    String low = options.getFullRefresh() ? null : state.highWatermark(c, export).orElse(null);
    String high;
    try (PreparedStatement s =
            c.prepareStatement("SELECT max(" + quote(watermark) + ")::text FROM " + relation);
        ResultSet rs = s.executeQuery()) {
      rs.next();
      high = rs.getString(1);
    }
    String cast = "CAST(? AS " + type + ")";
    String filter;
    List<String> values = new ArrayList<>();
    String w = quote(watermark);
    if (high == null) {
      filter = low == null ? w + " IS NULL" : "false";
    } else if (low == null) {
      filter = "(" + w + " IS NULL OR " + w + " <= " + cast + ")";
      values.add(high);
    } else {
      filter = w + " > " + cast + " AND " + w + " <= " + cast;
      values.add(low);
      values.add(high);
    }
    return new Plan(relation, label, avro, type, low, high, filter, values);
  }

  /**
   * The range predicates: {@code c < b1}, {@code b1 <= c < b2}, ..., {@code c >= b(n-1)} and {@code
   * c IS NULL}, with boundaries spread evenly between the column's minimum and maximum among the
   * rows of this run. Open ends and half-open ranges cover every row exactly once, boundary rows
   * and NULLs included.
   */
  private static List<KV<String, List<String>>> ranges(
      Connection c, Plan plan, String column, int partitions) throws SQLException {
    List<KV<String, List<String>>> ranges = new ArrayList<>();
    if (column == null || partitions == 1) {
      ranges.add(KV.of("(" + plan.filter() + ")", plan.filterValues()));
      return ranges;
    }
    String type = plan.avro().typeOf(column);
    if (!PARTITION_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "--partitionColumn " + column + " is " + type + "; it must be a number or a timestamp");
    }
    String col = quote(column);
    String cast = "CAST(? AS " + type + ")";
    List<String> boundaries = new ArrayList<>();
    String min;
    String max;
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT min("
                + col
                + ")::text, max("
                + col
                + ")::text FROM "
                + plan.relation()
                + " WHERE "
                + plan.filter())) {
      bind(s, plan.filterValues(), 1);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        min = rs.getString(1);
        max = rs.getString(2);
      }
    }
    if (min != null) {
      for (int i = 1; i < partitions; i++) {
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
          bind(s, List.of(min, max, min, String.valueOf((double) i / partitions)), 1);
          try (ResultSet rs = s.executeQuery()) {
            rs.next();
            boundaries.add(rs.getString(1));
          }
        }
      }
    }
    String filter = "(" + plan.filter() + ") AND ";
    for (int i = 0; i <= boundaries.size(); i++) {
      List<String> values = new ArrayList<>(plan.filterValues());
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
      ranges.add(KV.of(filter + "(" + predicate + ")", values));
    }
    List<String> nulls = new ArrayList<>(plan.filterValues());
    ranges.add(KV.of(filter + "(" + col + " IS NULL)", nulls));
    return ranges;
  }

  private static void bind(PreparedStatement s, List<String> values, int from) throws SQLException {
    for (int i = 0; i < values.size(); i++) {
      s.setString(from + i, values.get(i));
    }
  }

  private static String quote(String column) {
    return SqlIdentifiers.quotePart("column", column);
  }
}

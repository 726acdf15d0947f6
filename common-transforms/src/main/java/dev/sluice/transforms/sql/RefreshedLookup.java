package dev.sluice.transforms.sql;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.extensions.sql.BeamSqlSeekableTable;
import org.apache.beam.sdk.extensions.sql.meta.SchemaBaseBeamTable;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lookup table read by key as a query joins it, its rows read again every {@code refresh} ({@code
 * --lookupRefresh}): Beam SQL's lookup join ({@link BeamSqlSeekableTable}) asks for the rows
 * matching each record's join columns, and each worker answers from its copy of the whole table,
 * read when it starts and again once the copy is older than {@code refresh}. A streaming run so
 * sees a reference table's changes within an interval, without a restart.
 *
 * <p>Join semantics are SQL's: a record without a match has no row under {@code JOIN} and one row
 * of NULLs under {@code LEFT JOIN} ({@link #outer}); several matches give several rows; a NULL key
 * matches nothing. A refresh that fails keeps the copy it had (counted as {@code
 * lookup_refresh_failed}, and tried again an interval later); a first read that fails fails the
 * bundle, which the runner retries.
 */
public final class RefreshedLookup extends SchemaBaseBeamTable implements BeamSqlSeekableTable {
  private static final Logger LOG = LoggerFactory.getLogger(RefreshedLookup.class);

  /** The counter of a lookup's reads after the first. */
  public static final String REFRESHES = "lookup_refreshes";

  /** The counter of a lookup's reads that failed and left the copy as it was. */
  public static final String REFRESH_FAILED = "lookup_refresh_failed";

  /** Reads the whole table, as rows of its schema. */
  public interface Loader extends Serializable {
    List<Row> rows() throws Exception;
  }

  private final String name;
  private final Loader loader;
  private final long refreshMillis;
  private final boolean outer;
  private final String pipeline;
  private transient Map<List<Object>, List<Row>> index;
  private transient List<String> keyFields;
  private transient long loadedAt;

  private RefreshedLookup(
      String name,
      Schema schema,
      Loader loader,
      long refreshMillis,
      boolean outer,
      String pipeline) {
    super(schema);
    this.name = name;
    this.loader = loader;
    this.refreshMillis = refreshMillis;
    this.outer = outer;
    this.pipeline = pipeline;
  }

  /**
   * Lookup {@code name}, whose rows {@code loader} reads as rows of {@code schema}, read again
   * every {@code refresh}; {@code pipeline} names its counters. The SQL sees each column as
   * nullable.
   */
  public static RefreshedLookup of(
      String name, Schema schema, Loader loader, Duration refresh, String pipeline) {
    if (refresh == null || !refresh.isLongerThan(Duration.ZERO)) {
      throw new IllegalArgumentException("lookupRefresh must be positive, but was " + refresh);
    }
    return new RefreshedLookup(
        name, nullable(schema), loader, refresh.getMillis(), false, pipeline);
  }

  /** {@code schema} with every field nullable (a LEFT JOIN's missing match is a row of NULLs). */
  public static Schema nullable(Schema schema) {
    Schema.Builder builder = Schema.builder();
    for (Schema.Field field : schema.getFields()) {
      builder.addField(field.withNullable(true));
    }
    return builder.build();
  }

  /** The same lookup, joined by a LEFT JOIN (an unmatched record keeps a row of NULLs) or not. */
  public RefreshedLookup outer(boolean outer) {
    return new RefreshedLookup(name, getSchema(), loader, refreshMillis, outer, pipeline);
  }

  /** The name the SQL joins it by. */
  public String name() {
    return name;
  }

  @Override
  public void setUp(Schema joinKeys) {
    keyFields = joinKeys.getFieldNames();
    index = load();
    loadedAt = System.currentTimeMillis();
  }

  @Override
  public List<Row> seekRow(Row key) {
    long now = System.currentTimeMillis();
    if (now - loadedAt >= refreshMillis) {
      refresh(now);
    }
    List<Object> values = new ArrayList<>(key.getFieldCount());
    for (int i = 0; i < key.getFieldCount(); i++) {
      Object value = normalize(key.getBaseValue(i, Object.class));
      if (value == null) {
        return outer ? List.of(Row.nullRow(getSchema())) : List.of();
      }
      values.add(value);
    }
    List<Row> rows = index.get(values);
    if (rows == null) {
      return outer ? List.of(Row.nullRow(getSchema())) : List.of();
    }
    return rows;
  }

  private void refresh(long now) {
    try {
      index = load();
      Metrics.counter(pipeline, REFRESHES).inc();
    } catch (RuntimeException e) {
      Metrics.counter(pipeline, REFRESH_FAILED).inc();
      LOG.warn(
          "{}: lookup {} could not be read again; its rows of {} ms ago stay in use: {}",
          pipeline,
          name,
          now - loadedAt,
          e.toString());
    }
    loadedAt = now;
  }

  /** The table's rows by their join columns' values. */
  private Map<List<Object>, List<Row>> load() {
    List<Row> rows;
    try {
      rows = loader.rows();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("lookup " + name + " could not be read: " + e, e);
    }
    Map<List<Object>, List<Row>> byKey = new HashMap<>();
    Schema schema = getSchema();
    for (Row row : rows) {
      List<Object> key = new ArrayList<>(keyFields.size());
      for (String field : keyFields) {
        key.add(normalize(row.getBaseValue(field, Object.class)));
      }
      if (key.contains(null)) {
        continue;
      }
      byKey
          .computeIfAbsent(key, k -> new ArrayList<>(1))
          .add(Row.withSchema(schema).addValues(row.getValues()).build());
    }
    return byKey;
  }

  /** A value as SQL's equality compares it: numbers by value, whatever their Java type. */
  static Object normalize(Object value) {
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof Float f) {
      return f.doubleValue();
    }
    if (value instanceof BigDecimal decimal) {
      return decimal.signum() == 0 ? BigDecimal.ZERO : decimal.stripTrailingZeros();
    }
    return value;
  }

  @Override
  public PCollection<Row> buildIOReader(PBegin begin) {
    throw new UnsupportedOperationException(
        "lookup "
            + name
            + " is read by key as the query joins it (--lookupRefresh): it can only be joined"
            + " (JOIN or LEFT JOIN … ON equal columns), not read whole");
  }

  @Override
  public POutput buildIOWriter(PCollection<Row> input) {
    throw new UnsupportedOperationException("lookup " + name + " is read only");
  }

  @Override
  public PCollection.IsBounded isBounded() {
    return PCollection.IsBounded.BOUNDED;
  }
}

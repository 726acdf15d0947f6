package dev.sluice.io.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;

/**
 * SCD type 2 history of a keyed table, independent of arrival order: every event is kept in a
 * ledger (one row per key and version, written by the same versioned upsert as any table, so equal
 * versions are settled the same way), and the history rows of the keys a batch touched are rebuilt
 * from the ledger in the batch's transaction. The history is therefore a function of the set of
 * events, whatever their order, batching or repetition.
 *
 * <p>A history row is one version of a key: the event that opened it (a change of the tracked
 * columns or of the deleted flag since the key's previous event), {@code valid_from} its version,
 * {@code valid_to} the version of the key's next history row (null while none), {@code is_current}
 * for the newest one unless it is a delete, and {@code is_deleted} for a delete, which closes the
 * row before it and leaves the key without a current row until it is inserted again.
 *
 * @param history the history table: the record's columns and the four history columns, unique on
 *     the key and {@code valid_from}
 * @param ledger the ledger: the record's columns, unique on the key and the version
 * @param keyFields the key
 * @param versionField the field that orders a key's events (a version, or a change event's
 *     position)
 * @param columns every column of the record
 * @param tracked the columns whose change opens a new version
 * @param deletedColumn the boolean column that marks a delete, or null when events never delete
 */
public record HistorySql(
    String history,
    String ledger,
    List<String> keyFields,
    String versionField,
    List<String> columns,
    List<String> tracked,
    @Nullable String deletedColumn)
    implements Serializable {
  public static final String VALID_FROM = "valid_from";
  public static final String VALID_TO = "valid_to";
  public static final String IS_CURRENT = "is_current";
  public static final String IS_DELETED = "is_deleted";

  public HistorySql {
    SqlIdentifiers.parts("table", history);
    SqlIdentifiers.parts("historyVersions", ledger);
    keyFields = List.copyOf(keyFields);
    columns = List.copyOf(columns);
    tracked = List.copyOf(tracked);
    for (String c : columns) {
      SqlIdentifiers.checkPart("column", c, c);
    }
    for (String t : tracked) {
      checkArgument(
          columns.contains(t), "--historyColumns names %s, which is no column of the records", t);
    }
    checkArgument(!tracked.isEmpty(), "--historyColumns must name at least one column");
  }

  /**
   * The history of records of {@code schema}: {@code tracked} empty tracks every column but the
   * key, the version and the deleted flag.
   */
  public static HistorySql of(
      String history,
      String ledger,
      Schema schema,
      List<String> keyFields,
      String versionField,
      List<String> tracked,
      @Nullable String deletedColumn) {
    List<String> columns = schema.getFields().stream().map(Schema.Field::name).toList();
    for (String reserved : List.of(VALID_FROM, VALID_TO, IS_CURRENT, IS_DELETED)) {
      checkArgument(
          !columns.contains(reserved),
          "schema %s has a field %s, which the history keeps for itself",
          schema.getName(),
          reserved);
    }
    List<String> chosen =
        tracked.isEmpty() ? everyColumn(columns, keyFields, versionField, deletedColumn) : tracked;
    return new HistorySql(history, ledger, keyFields, versionField, columns, chosen, deletedColumn);
  }

  /**
   * The same history of records that gained {@code added} columns (add_columns): tracked too when
   * every column is tracked (no {@code --historyColumns}), else not.
   */
  public HistorySql withColumns(List<String> added) {
    List<String> all = new ArrayList<>(columns);
    List<String> more = added.stream().filter(c -> !columns.contains(c)).toList();
    if (more.isEmpty()) {
      return this;
    }
    all.addAll(more);
    List<String> trackedNow = new ArrayList<>(tracked);
    if (tracked.equals(everyColumn(columns, keyFields, versionField, deletedColumn))) {
      trackedNow.addAll(more);
    }
    return new HistorySql(history, ledger, keyFields, versionField, all, trackedNow, deletedColumn);
  }

  /** Every column but the key, the version and the deleted flag. */
  private static List<String> everyColumn(
      List<String> columns,
      List<String> keyFields,
      String versionField,
      @Nullable String deletedColumn) {
    return columns.stream()
        .filter(c -> !keyFields.contains(c) && !c.equals(versionField) && !c.equals(deletedColumn))
        .toList();
  }

  /** The ledger's key: the record's key and its version. */
  public List<String> ledgerKey() {
    List<String> key = new ArrayList<>(keyFields);
    key.add(versionField);
    return key;
  }

  /** The history table's shape: the record's fields and the four history columns. */
  public static Schema historySchema(Schema schema) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : schema.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    Schema bool = Schema.create(Schema.Type.BOOLEAN);
    Schema along = Schema.create(Schema.Type.LONG);
    fields.add(new Schema.Field(VALID_FROM, along, "The version that opened this row", null));
    fields.add(
        new Schema.Field(
            VALID_TO,
            Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.LONG)),
            "The version of the key's next row; null while there is none",
            JsonProperties.NULL_VALUE));
    fields.add(new Schema.Field(IS_CURRENT, bool, "The key's current row", null));
    fields.add(new Schema.Field(IS_DELETED, Schema.create(Schema.Type.BOOLEAN), "A delete", null));
    return Schema.createRecord(
        schema.getName() + "History", schema.getDoc(), schema.getNamespace(), false, fields);
  }

  /** The history key: the record's key and {@code valid_from}. */
  public List<String> historyKey() {
    List<String> key = new ArrayList<>(keyFields);
    key.add(VALID_FROM);
    return key;
  }

  private static String q(String column) {
    return SqlIdentifiers.quotePart("column", column);
  }

  private String keyList(String prefix) {
    return String.join(", ", keyFields.stream().map(k -> prefix + q(k)).toList());
  }

  /**
   * Locks the keys of a batch (two ints: the history table's and the key's hash; the caller gives
   * the key hashes sorted, so that two batches lock their common keys in the same order).
   */
  public String lockKeys() {
    return "SELECT pg_advisory_xact_lock(" + history.hashCode() + ", k) FROM unnest(?) AS k";
  }

  /** Deletes the history rows of the keys {@code batch} (a table of the batch's rows) holds. */
  public String deleteKeys(String batch) {
    List<String> match = new ArrayList<>();
    for (String k : keyFields) {
      match.add("sluice_h." + q(k) + " = sluice_k." + q(k));
    }
    return "DELETE FROM "
        + SqlIdentifiers.quote("table", history)
        + " AS sluice_h USING (SELECT DISTINCT "
        + keyList("")
        + " FROM "
        + batch
        + ") AS sluice_k WHERE "
        + String.join(" AND ", match);
  }

  /** Rebuilds, from the ledger, the history rows of the keys {@code batch} holds. */
  public String rebuild(String batch) {
    String deleted = deletedColumn == null ? "false" : "sluice_l." + q(deletedColumn);
    String partition =
        "PARTITION BY " + keyList("sluice_l.") + " ORDER BY sluice_l." + q(versionField);
    // The tracked values as one row value, compared field by field (no text of it is made).
    String state =
        "ROW("
            + String.join(", ", tracked.stream().map(c -> "sluice_l." + q(c)).toList())
            + ", "
            + deleted
            + ")";
    String cols = String.join(", ", columns.stream().map(HistorySql::q).toList());
    String ledgerCols = String.join(", ", columns.stream().map(c -> "sluice_l." + q(c)).toList());
    List<String> match = new ArrayList<>();
    for (String k : keyFields) {
      match.add("sluice_k." + q(k) + " = sluice_e." + q(k));
    }
    String next = "LEAD(sluice_v) OVER (PARTITION BY " + keyList("") + " ORDER BY sluice_v)";
    return "INSERT INTO "
        + SqlIdentifiers.quote("table", history)
        + " ("
        + cols
        + ", "
        + q(VALID_FROM)
        + ", "
        + q(VALID_TO)
        + ", "
        + q(IS_CURRENT)
        + ", "
        + q(IS_DELETED)
        + ") SELECT "
        + cols
        + ", sluice_v, "
        + next
        + ", "
        + next
        + " IS NULL AND NOT sluice_d, sluice_d FROM (SELECT "
        + ledgerCols
        + ", sluice_l."
        + q(versionField)
        + " AS sluice_v, "
        + deleted
        + " AS sluice_d, "
        + state
        + " AS sluice_s, LAG("
        + state
        + ") OVER ("
        + partition
        + ") AS sluice_p, ROW_NUMBER() OVER ("
        + partition
        + ") AS sluice_n FROM "
        + "(SELECT DISTINCT "
        + keyList("")
        + " FROM "
        + batch
        // LATERAL, fenced by OFFSET 0 so that it is not flattened into a join: the batch's keys
        // drive, each looking its events up by the ledger's key (the planner would otherwise walk
        // the whole ledger in key order to spare the window a sort).
        + ") AS sluice_k CROSS JOIN LATERAL (SELECT * FROM "
        + SqlIdentifiers.quote("historyVersions", ledger)
        + " AS sluice_e WHERE "
        + String.join(" AND ", match)
        + " OFFSET 0) AS sluice_l) AS sluice_x WHERE sluice_n = 1 OR sluice_p IS DISTINCT FROM sluice_s";
  }

  /** The DDL of the two tables for a target shaped like {@code like}, for error messages. */
  public String ddl(String like) {
    return "CREATE TABLE "
        + history
        + " (LIKE "
        + like
        + " INCLUDING DEFAULTS, valid_from bigint NOT NULL, valid_to bigint, is_current boolean NOT"
        + " NULL, is_deleted boolean NOT NULL, PRIMARY KEY ("
        + String.join(", ", historyKey())
        + ")); CREATE TABLE "
        + ledger
        + " (LIKE "
        + like
        + " INCLUDING DEFAULTS, PRIMARY KEY ("
        + String.join(", ", ledgerKey())
        + "))";
  }
}

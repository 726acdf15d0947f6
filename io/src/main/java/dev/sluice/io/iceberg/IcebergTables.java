package dev.sluice.io.iceberg;

import dev.sluice.transforms.core.AvroTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Iceberg tables made from a dataset's Avro contract: format v2, Parquet data files, partitioned by
 * Iceberg's transforms. A run against an existing table checks it against the contract first: a
 * contract that adds an optional field adds the column; any other difference is refused, naming the
 * field, before anything is read.
 */
public final class IcebergTables {
  private static final Pattern TRANSFORM =
      Pattern.compile(
          "^(year|month|day|hour|bucket|truncate|identity)\\((?:(\\d+),\\s*)?(\\w+)\\)$");

  private IcebergTables() {}

  /** {@code namespace.table} as an identifier, refusing anything else naming it. */
  public static TableIdentifier identifier(String name) {
    if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+")) {
      throw new IllegalArgumentException(
          "--output=iceberg:<namespace>.<table> names a table such as lake.orders, not '"
              + name
              + "'");
    }
    return TableIdentifier.parse(name);
  }

  /** The Iceberg schema of an Avro contract: its fields in order, ids from 1, docs kept. */
  public static Schema schemaOf(org.apache.avro.Schema contract) {
    List<Types.NestedField> fields = new ArrayList<>();
    int id = 1;
    for (org.apache.avro.Schema.Field field : contract.getFields()) {
      Type type = typeOf(field);
      boolean optional = AvroTypes.isOptional(field.schema());
      fields.add(
          optional
              ? Types.NestedField.optional(id++, field.name(), type, field.doc())
              : Types.NestedField.required(id++, field.name(), type, field.doc()));
    }
    return new Schema(fields);
  }

  /** The Iceberg type of a contract field; instants are timestamps with a zone (UTC). */
  static Type typeOf(org.apache.avro.Schema.Field field) {
    org.apache.avro.Schema schema = AvroTypes.nonNull(field.schema());
    LogicalType logical = schema.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal decimal) {
      return Types.DecimalType.of(decimal.getPrecision(), decimal.getScale());
    }
    if (logical instanceof LogicalTypes.TimestampMillis
        || logical instanceof LogicalTypes.TimestampMicros) {
      return Types.TimestampType.withZone();
    }
    if (logical instanceof LogicalTypes.LocalTimestampMillis
        || logical instanceof LogicalTypes.LocalTimestampMicros) {
      return Types.TimestampType.withoutZone();
    }
    if (logical instanceof LogicalTypes.Date) {
      return Types.DateType.get();
    }
    if (logical != null && logical.getName().equals("uuid")) {
      return Types.UUIDType.get();
    }
    return switch (schema.getType()) {
      case STRING, ENUM -> Types.StringType.get();
      case LONG -> Types.LongType.get();
      case INT -> Types.IntegerType.get();
      case BOOLEAN -> Types.BooleanType.get();
      case DOUBLE -> Types.DoubleType.get();
      case FLOAT -> Types.FloatType.get();
      case BYTES, FIXED -> Types.BinaryType.get();
      default ->
          throw new IllegalArgumentException(
              "field '"
                  + field.name()
                  + "' of the contract is a "
                  + schema.getType().getName()
                  + ", which an Iceberg table of Sluice does not hold");
    };
  }

  /**
   * The partition spec {@code --partitionBy} gives: comma-separated Iceberg transforms, {@code
   * day(f)}, {@code hour(f)}, {@code month(f)}, {@code year(f)}, {@code bucket(N, f)}, {@code
   * truncate(W, f)}, or a field name (identity).
   */
  public static PartitionSpec partitionSpec(Schema schema, String partitionBy) {
    PartitionSpec.Builder spec = PartitionSpec.builderFor(schema);
    if (partitionBy == null || partitionBy.isBlank()) {
      return spec.build();
    }
    for (String part : partitionBy.split(",(?![^(]*\\))")) {
      String term = part.strip();
      Matcher m = TRANSFORM.matcher(term);
      String field = m.matches() ? m.group(3) : term;
      if (schema.findField(field) == null) {
        throw new IllegalArgumentException(
            "--partitionBy=" + partitionBy + ": '" + field + "' is not a field of the contract");
      }
      try {
        if (!m.matches() || m.group(1).equals("identity")) {
          spec.identity(field);
        } else {
          switch (m.group(1)) {
            case "year" -> spec.year(field);
            case "month" -> spec.month(field);
            case "day" -> spec.day(field);
            case "hour" -> spec.hour(field);
            case "bucket" -> spec.bucket(field, Integer.parseInt(m.group(2)));
            case "truncate" -> spec.truncate(field, Integer.parseInt(m.group(2)));
            default -> throw new IllegalStateException(m.group(1));
          }
        }
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "--partitionBy="
                + partitionBy
                + ": cannot partition by "
                + term
                + ": "
                + e.getMessage(),
            e);
      }
    }
    return spec.build();
  }

  /**
   * The table, created from the contract when it does not exist yet, or checked against it when it
   * does: optional fields the table lacks are added as columns; a field of another type, a required
   * field the table lacks, or a required column the contract lacks is refused, naming it.
   */
  public static Table ensure(
      Catalog catalog, TableIdentifier id, org.apache.avro.Schema contract, String partitionBy) {
    Schema wanted = schemaOf(contract);
    if (!catalog.tableExists(id)) {
      if (catalog instanceof SupportsNamespaces namespaces
          && !namespaces.namespaceExists(id.namespace())) {
        createNamespace(namespaces, id.namespace());
      }
      return catalog.createTable(
          id,
          wanted,
          partitionSpec(wanted, partitionBy),
          Map.of(
              TableProperties.FORMAT_VERSION,
              "2",
              TableProperties.DEFAULT_FILE_FORMAT,
              "parquet",
              "sluice.contract",
              contract.getFullName()));
    }
    Table table = catalog.loadTable(id);
    List<Types.NestedField> added = check(table.schema(), wanted, id);
    if (!added.isEmpty()) {
      evolve(table.updateSchema(), added).commit();
    }
    return table;
  }

  /**
   * A table as a run writes it: the table, and the schema of the run's data files (the table's,
   * with the contract's optional fields it lacks as new columns: the run's commit adds them, with
   * its data).
   */
  public record Planned(Table table, Schema schema) {
    /** Whether the run's commit adds columns to the table. */
    public boolean evolves() {
      return !schema.sameSchema(table.schema());
    }
  }

  /**
   * As {@link #ensure}, but a table that exists is only checked: the columns the contract adds are
   * in the planned schema, not yet in the table.
   */
  public static Planned plan(
      Catalog catalog, TableIdentifier id, org.apache.avro.Schema contract, String partitionBy) {
    if (!catalog.tableExists(id)) {
      Table created = ensure(catalog, id, contract, partitionBy);
      return new Planned(created, created.schema());
    }
    Table table = catalog.loadTable(id);
    List<Types.NestedField> added = check(table.schema(), schemaOf(contract), id);
    return new Planned(
        table, added.isEmpty() ? table.schema() : evolve(table.updateSchema(), added).apply());
  }

  /**
   * Adds to {@code update} the columns of {@code target} that {@code current} lacks, checking that
   * they are optional columns of the contract; fails naming a breaking difference.
   */
  public static UpdateSchema evolve(
      UpdateSchema update, Schema current, Schema target, TableIdentifier id) {
    return evolve(update, check(current, target, id));
  }

  /**
   * Whether {@code table} has every column of {@code written}, by id, with its name and type: files
   * written with {@code written} are read right through {@code table} (which may have more columns,
   * such as those {@code --onSchemaChange=add_columns} added since).
   */
  public static boolean covers(Schema table, Schema written) {
    for (Types.NestedField column : written.columns()) {
      Types.NestedField same = table.findField(column.fieldId());
      if (same == null
          || !same.name().equals(column.name())
          || !same.type().equals(column.type())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The schema to write {@code table}'s rows with: the table's own when it has every column of
   * {@code planned} (the run's planned schema, or null), else the planned one, whose new columns
   * the run's commit adds.
   */
  public static Schema writing(Table table, @Nullable Schema planned) {
    return planned == null || covers(table.schema(), planned) ? table.schema() : planned;
  }

  private static UpdateSchema evolve(UpdateSchema update, List<Types.NestedField> added) {
    for (Types.NestedField field : added) {
      update.addColumn(field.name(), field.type(), field.doc());
    }
    return update;
  }

  private static void createNamespace(SupportsNamespaces namespaces, Namespace namespace) {
    try {
      namespaces.createNamespace(namespace);
    } catch (org.apache.iceberg.exceptions.AlreadyExistsException raced) {
      // Another run created it first: what matters is that it exists.
    }
  }

  /**
   * The contract's optional fields the table lacks (to be added); fails naming a difference that
   * would break the table's readers or writers.
   */
  static List<Types.NestedField> check(Schema table, Schema contract, TableIdentifier id) {
    List<Types.NestedField> added = new ArrayList<>();
    for (Types.NestedField field : contract.columns()) {
      Types.NestedField existing = table.findField(field.name());
      if (existing == null) {
        if (field.isRequired()) {
          throw new IllegalArgumentException(
              "table "
                  + id
                  + " has no column '"
                  + field.name()
                  + "', which the contract requires: a required field cannot be added to a table"
                  + " that has rows (make it optional, or write to a new table)");
        }
        added.add(field);
      } else if (!existing.type().equals(field.type())) {
        throw new IllegalArgumentException(
            "table "
                + id
                + " column '"
                + field.name()
                + "' is "
                + existing.type()
                + " but the contract has "
                + field.type()
                + ": a breaking change, refused");
      } else if (existing.isOptional() && field.isRequired()) {
        // A required contract field into an optional column is fine: every value is present.
        continue;
      } else if (existing.isRequired() && field.isOptional()) {
        throw new IllegalArgumentException(
            "table "
                + id
                + " column '"
                + field.name()
                + "' is required but the contract makes it optional: a null would break the"
                + " table, refused");
      }
    }
    for (Types.NestedField column : table.columns()) {
      if (column.isRequired() && contract.findField(column.name()) == null) {
        throw new IllegalArgumentException(
            "table "
                + id
                + " has a required column '"
                + column.name()
                + "' that the contract lacks: rows of the contract could not be written, refused");
      }
    }
    return added;
  }
}

package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Where an Iceberg output ({@code --output=iceberg:<namespace>.<table>}) is registered. */
public interface IcebergOptions extends PipelineOptions {
  @Description(
      "With --output=iceberg:<namespace>.<table>: the Iceberg catalog, jdbc:postgresql://host/db"
          + " (Iceberg's JDBC catalog), jdbc:sqlite:<file> (the same in a file; default"
          + " <warehouse>/sluice-catalog.db) or rest:http(s)://host/... (an Iceberg REST catalog)")
  String getCatalog();

  void setCatalog(String value);

  @Description(
      "With --output=iceberg:...: where the tables' files go (a directory or gs://bucket/path);"
          + " Sluice keeps its run reports and pending file lists under <warehouse>/_sluice")
  String getWarehouse();

  void setWarehouse(String value);

  @Description("The catalog database's user (JDBC catalogs), or the REST catalog's client id")
  String getCatalogUser();

  void setCatalogUser(String value);

  @Description(
      "The catalog's password (JDBC) or secret (REST), as a reference: env:NAME or file:PATH")
  String getCatalogPassword();

  void setCatalogPassword(String value);

  @Description(
      "With --output=iceberg:...: how a new table is partitioned, Iceberg transforms separated by"
          + " commas: day(f) (the default, on --partitionField), hour(f), month(f), year(f),"
          + " bucket(N, f), truncate(W, f), or a field name (identity)")
  String getPartitionBy();

  void setPartitionBy(String value);
}

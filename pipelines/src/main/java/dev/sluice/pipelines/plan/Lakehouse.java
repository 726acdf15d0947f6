package dev.sluice.pipelines.plan;

import dev.sluice.io.files.CandidateContract;
import dev.sluice.io.files.LakePublisher;
import dev.sluice.io.iceberg.AddIcebergColumns;
import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.io.iceberg.IcebergTables;
import dev.sluice.io.iceberg.WriteIcebergWindows;
import dev.sluice.pipelines.options.IcebergOptions;
import dev.sluice.pipelines.options.SluiceOptions;
import dev.sluice.schemas.PiiPolicy;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.iceberg.SchemaParser;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * An Iceberg output, {@code --output=iceberg:<namespace>.<table>}, as planned: the table is made
 * from the contract (or checked against it) when the run is planned, data files are written where
 * the table keeps them, and one commit step makes them part of the table.
 */
public final class Lakehouse {
  private Lakehouse() {}

  /**
   * A planned table.
   *
   * @param catalog where it is registered
   * @param name {@code namespace.table}
   * @param warehouse the warehouse the run's own files go under
   * @param location where the table keeps its files (for lineage)
   * @param partitionField the contract's partition field (the directory lake's), or null
   * @param contract the contract's full name and version, for the snapshot summary
   * @param schemaJson the schema of the run's data files: the table's, with the columns the
   *     contract adds (the run's commit adds them to the table with its data)
   * @param personalData the contract's personal-data policies, for the snapshot summary
   * @param addColumns the step adding columns for new fields ({@code
   *     --onSchemaChange=add_columns}), or null
   */
  public record Table(
      IcebergCatalog catalog,
      String name,
      String warehouse,
      String location,
      @Nullable String partitionField,
      String contract,
      String schemaJson,
      String personalData,
      @Nullable AddIcebergColumns addColumns)
      implements Serializable {
    /**
     * The table written under {@code --onSchemaChange=add_columns}: the columns the contract adds
     * are added now, in a commit of their own (the columns added while the run writes take the ids
     * after them), and new fields' columns are added as they come, by {@code pipeline}'s {@link
     * AddIcebergColumns} step, which rewrites the candidate next version of {@code contract} (the
     * reviewed one) under {@code candidates}.
     */
    public Table withAddColumns(String pipeline, Schema contract, @Nullable String candidates) {
      TableIdentifier id = IcebergTables.identifier(name);
      org.apache.iceberg.Schema planned = SchemaParser.fromJson(schemaJson);
      org.apache.iceberg.Schema now;
      try {
        now =
            catalog.using(
                opened -> {
                  org.apache.iceberg.Table table = opened.loadTable(id);
                  if (!IcebergTables.covers(table.schema(), planned)) {
                    IcebergTables.evolve(table.updateSchema(), table.schema(), planned, id)
                        .commit();
                    table.refresh();
                  }
                  return table.schema();
                });
      } catch (IOException e) {
        throw new IllegalStateException("the catalog " + catalog + " failed: " + e.getMessage(), e);
      }
      String run = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      return new Table(
          catalog,
          name,
          warehouse,
          location,
          partitionField,
          this.contract,
          SchemaParser.toJson(now),
          personalData,
          AddIcebergColumns.to(
              catalog,
              name,
              pipeline,
              run,
              new CandidateContract(contract.toString(), candidates)));
    }

    /**
     * What a commit's snapshot summary says besides its own: the contract, and which personal-data
     * policy applied to which field ({@code sluice.pii}), when any did.
     */
    public LinkedHashMap<String, String> contractSummary() {
      LinkedHashMap<String, String> summary = new LinkedHashMap<>();
      summary.put("sluice.contract", contract);
      if (!personalData.isEmpty()) {
        summary.put("sluice.pii", personalData);
      }
      return summary;
    }

    /** Where the run keeps its own files (report, history, pending lists): under the warehouse. */
    public String home() {
      return warehouse.replaceAll("/+$", "") + "/_sluice/" + name;
    }

    /**
     * The run part of a plan writing this table: its report and history under the table's home
     * unless {@code --runReport} and {@code --runHistory} say otherwise, and its quality rules.
     */
    public RunPlan run(
        boolean bounded,
        Map<String, String> outputs,
        SluiceOptions options,
        @Nullable Rules rules) {
      return RunPlan.of(
              bounded,
              outputs,
              options.getRunReport() != null ? options.getRunReport() : home() + "/run-report.json")
          .withQuality(rules)
          .withHistory(
              options.getRunHistory() != null ? options.getRunHistory() : home() + "/history");
    }

    /** The write of a run whose pending list goes under {@code staging}. */
    public LakeTarget target(String staging, @Nullable String stem) {
      return new LakeTarget(
          staging,
          location,
          partitionField,
          1,
          stem,
          catalog,
          name,
          schemaJson,
          null,
          null,
          addColumns);
    }

    /**
     * The write of a watching run: data files per bundle, committed once per window, each commit
     * with an id of the pipeline, table, run and window (a retried one adds nothing).
     */
    public LakeTarget streaming(String pipeline, String inputs) {
      return streamingTo(windows(pipeline, inputs));
    }

    /** The windowed commits of a stream, their summary naming its inputs and the contract. */
    private WriteIcebergWindows windows(String pipeline, String inputs) {
      String run = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      LinkedHashMap<String, String> summary = new LinkedHashMap<>();
      summary.put("sluice.inputs", inputs);
      summary.putAll(contractSummary());
      WriteIcebergWindows windows =
          WriteIcebergWindows.to(catalog, name, pipeline, run)
              .withSchema(schemaJson)
              .withSummary(summary);
      return addColumns == null ? windows : windows.withAddColumns();
    }

    private LakeTarget streamingTo(WriteIcebergWindows windows) {
      return new LakeTarget(
          location,
          location,
          partitionField,
          1,
          null,
          catalog,
          name,
          schemaJson,
          windows,
          null,
          addColumns);
    }

    /**
     * The write of a stream of Kafka events: data files per bundle named {@code <stem>-<run>-...},
     * committed once per window (or trigger firing) with an id of the pipeline, table, run and
     * pane, replacing nothing; each commit records {@code positions}' next offsets in its summary
     * and then hands them on (to be committed for the consumer group).
     */
    public LakeTarget streamingEvents(
        String pipeline, String stem, WriteIcebergWindows.Positions positions) {
      return streamingTo(windows(pipeline, "kafka:" + positions.topic()).ofEvents(stem, positions));
    }

    /**
     * {@code run} with the commit of its listed files, replacing the files of {@code stems}: after
     * the gate, straight to main when the run is not gated; when it is (write-audit-publish), to a
     * branch {@code audit-<run>} before the gate is judged, and main fast-forwarded to it only when
     * the gate opens (a closed gate leaves main as it was and the branch for inspection).
     *
     * @param check a step that must pass before anything is committed, or null
     */
    public RunPlan withCommit(
        RunPlan run,
        String pipeline,
        String staging,
        List<String> stems,
        String inputTag,
        boolean gated,
        @Nullable RunPlan.Step check) {
      return withCommit(run, pipeline, staging, stems, inputTag, gated, check, Map.of());
    }

    /**
     * As {@link #withCommit(RunPlan, String, String, List, String, boolean, RunPlan.Step)}, the
     * commit's summary also carrying {@code properties} (e.g. the Kafka offsets its rows end at).
     */
    public RunPlan withCommit(
        RunPlan run,
        String pipeline,
        String staging,
        List<String> stems,
        String inputTag,
        boolean gated,
        @Nullable RunPlan.Step check,
        Map<String, String> properties) {
      LinkedHashMap<String, String> summary = new LinkedHashMap<>(properties);
      summary.put("sluice.pipeline", pipeline);
      summary.put("sluice.inputs", inputTag);
      summary.putAll(contractSummary());
      String id = UUID.randomUUID().toString();
      String commitId = pipeline + "/" + name + "/" + id;
      summary.put("sluice.run", commitId);
      String fileList = staging.replaceAll("/+$", "") + "/" + LakePublisher.FILE_LIST;
      Steps.CommitIceberg commit =
          new Steps.CommitIceberg(
              catalog,
              name,
              fileList,
              stems,
              commitId,
              summary,
              schemaJson,
              gated ? AUDIT_BRANCH_PREFIX + id : null,
              false);
      if (!gated) {
        return (check == null ? run : run.withOnSuccess(check)).withOnSuccess(commit);
      }
      return (check == null ? run : run.withAudit(check))
          .withAudit(commit)
          .withOnSuccess(commit.publishing());
    }
  }

  /** The name prefix of the branches gated runs commit to (see {@code sluice maintain}). */
  public static final String AUDIT_BRANCH_PREFIX = "audit-";

  /**
   * The catalog of the table {@code output} names: {@code --catalog}, or the embedded SQLite one
   * under a local {@code --warehouse} (made now).
   */
  public static IcebergCatalog catalog(String output, IcebergOptions options) {
    IcebergTables.identifier(output.substring("iceberg:".length()));
    String warehouse = options.getWarehouse();
    if (warehouse == null || warehouse.isBlank()) {
      throw new IllegalArgumentException(
          "--output=" + output + " needs --warehouse=<dir|gs://bucket/path>");
    }
    String uri = options.getCatalog();
    if (uri == null) {
      if (warehouse.contains("://")) {
        throw new IllegalArgumentException(
            "--warehouse=" + warehouse + " is remote: give --catalog (jdbc:postgresql or rest:)");
      }
      try {
        Files.createDirectories(Path.of(warehouse));
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "--warehouse=" + warehouse + " cannot be created: " + e.getMessage(), e);
      }
      uri = "jdbc:sqlite:" + Path.of(warehouse, "sluice-catalog.db");
    }
    return new IcebergCatalog(
        uri, warehouse, options.getCatalogUser(), options.getCatalogPassword());
  }

  /**
   * The columns earlier {@code --onSchemaChange=add_columns} runs added to the table {@code output}
   * names, name to Avro type (none when it does not exist yet): part of the contract from now on.
   */
  public static Map<String, String> addedColumns(String output, IcebergOptions options) {
    IcebergCatalog catalog = catalog(output, options);
    TableIdentifier id = IcebergTables.identifier(output.substring("iceberg:".length()));
    try {
      return catalog.using(
          opened ->
              opened.tableExists(id)
                  ? AddIcebergColumns.recorded(opened.loadTable(id))
                  : Map.<String, String>of());
    } catch (IOException e) {
      throw new IllegalStateException("the catalog " + catalog + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * The table {@code output} names, made or checked now; null when {@code output} is a directory.
   */
  public static @Nullable Table of(
      String output, IcebergOptions options, Schema contract, @Nullable String partitionField) {
    if (!output.startsWith("iceberg:")) {
      return null;
    }
    String name = output.substring("iceberg:".length());
    IcebergCatalog catalog = catalog(output, options);
    String partitionBy =
        options.getPartitionBy() != null
            ? options.getPartitionBy()
            : partitionField == null ? "" : "day(" + partitionField + ")";
    Object version = contract.getObjectProp("sluice.version");
    try {
      IcebergTables.Planned planned =
          catalog.using(
              opened ->
                  IcebergTables.plan(
                      opened, IcebergTables.identifier(name), contract, partitionBy));
      return new Table(
          catalog,
          name,
          options.getWarehouse(),
          planned.table().location(),
          partitionField,
          contract.getFullName() + (version == null ? "" : " v" + version),
          org.apache.iceberg.SchemaParser.toJson(planned.schema()),
          PiiPolicy.summary(PiiPolicy.of(contract)),
          null);
    } catch (IOException e) {
      throw new IllegalStateException("the catalog " + catalog + " failed: " + e.getMessage(), e);
    }
  }
}

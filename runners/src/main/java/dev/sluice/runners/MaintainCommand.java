package dev.sluice.runners;

import dev.sluice.io.iceberg.IcebergCatalog;
import dev.sluice.io.iceberg.IcebergMaintenance;
import dev.sluice.io.iceberg.IcebergTables;
import dev.sluice.pipelines.plan.Lakehouse;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;

/**
 * {@code sluice maintain --output=iceberg:<namespace>.<table> --warehouse=<dir> [--catalog=...]
 * [--catalogUser=... --catalogPassword=...] [--compact [--targetFileBytes=N]]
 * [--expireSnapshotsOlderThan=P7D] [--removeOrphans [--orphanAge=P1D]]
 * [--removeAuditBranchesOlderThan=P7D]}: keeps an Iceberg table healthy, and prints what it did.
 */
final class MaintainCommand {
  static final List<String> OWN =
      List.of(
          "output",
          "warehouse",
          "catalog",
          "catalogUser",
          "catalogPassword",
          "compact",
          "targetFileBytes",
          "expireSnapshotsOlderThan",
          "removeOrphans",
          "orphanAge",
          "removeAuditBranchesOlderThan");

  private MaintainCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    Flags flags = Flags.parse(args, OWN);
    String output = flags.required("output");
    if (!output.startsWith("iceberg:")) {
      throw new UsageException(
          "--output must name an Iceberg table, iceberg:<namespace>.<table>, but was '"
              + output
              + "'");
    }
    String name = output.substring("iceberg:".length());
    String warehouse = flags.required("warehouse");
    IcebergCatalog catalog =
        new IcebergCatalog(
            flags.get("catalog", "jdbc:sqlite:" + Path.of(warehouse, "sluice-catalog.db")),
            warehouse,
            flags.get("catalogUser"),
            flags.get("catalogPassword"));
    boolean compact = Boolean.parseBoolean(flags.get("compact", "false"));
    boolean orphans = Boolean.parseBoolean(flags.get("removeOrphans", "false"));
    String expire = flags.get("expireSnapshotsOlderThan");
    String branches = flags.get("removeAuditBranchesOlderThan");
    if (!compact && !orphans && expire == null && branches == null) {
      throw new UsageException(
          "maintain does nothing without --compact, --expireSnapshotsOlderThan=<ISO-8601>,"
              + " --removeOrphans or --removeAuditBranchesOlderThan=<ISO-8601>");
    }
    Duration branchAge =
        branches == null ? null : duration("removeAuditBranchesOlderThan", branches);
    long target = Long.parseLong(flags.get("targetFileBytes", String.valueOf(128L << 20)));
    Duration orphanAge = duration("orphanAge", flags.get("orphanAge", "P1D"));
    Duration expireAge = expire == null ? null : duration("expireSnapshotsOlderThan", expire);
    return catalog.using(
        opened -> {
          Table table = opened.loadTable(IcebergTables.identifier(name));
          long[] before = IcebergMaintenance.filesAndRows(table);
          out.println(
              "Table "
                  + name
                  + ": "
                  + before[0]
                  + " data file(s), "
                  + before[1]
                  + " row(s), "
                  + count(table.snapshots())
                  + " snapshot(s)");
          if (branchAge != null) {
            // First: the snapshots of a removed branch can then expire, and its files become
            // orphans.
            List<String> removed =
                IcebergMaintenance.removeBranches(table, Lakehouse.AUDIT_BRANCH_PREFIX, branchAge);
            out.println(
                "  removed "
                    + removed.size()
                    + " audit branch(es) older than "
                    + branches
                    + (removed.isEmpty() ? "" : ": " + String.join(", ", removed)));
          }
          if (compact) {
            Map<String, String> done = IcebergMaintenance.compact(table, target);
            out.println(
                done.isEmpty()
                    ? "  compact: no partition has two or more small files"
                    : "  compact: " + done);
          }
          if (expireAge != null) {
            out.println(
                "  expired snapshots older than "
                    + expire
                    + ": "
                    + IcebergMaintenance.expireSnapshots(table, expireAge));
          }
          if (orphans) {
            List<String> deleted = IcebergMaintenance.removeOrphans(table, orphanAge);
            out.println(
                "  removed "
                    + deleted.size()
                    + " orphan data file(s) older than "
                    + flags.get("orphanAge", "P1D")
                    + (deleted.isEmpty()
                        ? ""
                        : ", e.g. "
                            + deleted.get(0).substring(deleted.get(0).lastIndexOf('/') + 1)));
          }
          table.refresh();
          long[] after = IcebergMaintenance.filesAndRows(table);
          out.println(
              "Now: "
                  + after[0]
                  + " data file(s), "
                  + after[1]
                  + " row(s), "
                  + count(table.snapshots())
                  + " snapshot(s)");
          return Exit.OK;
        });
  }

  private static long count(Iterable<?> items) {
    long n = 0;
    for (Object ignored : items) {
      n++;
    }
    return n;
  }

  private static Duration duration(String option, String value) {
    try {
      return Duration.parse(value);
    } catch (DateTimeParseException e) {
      throw new UsageException(
          "--"
              + option
              + " must be an ISO-8601 duration such as P7D or PT0S, but was '"
              + value
              + "'");
    }
  }
}

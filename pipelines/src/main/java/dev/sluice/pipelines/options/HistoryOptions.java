package dev.sluice.pipelines.options;

import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Whether a table keeps the current row of each key, or SCD type 2 history of every version. */
public interface HistoryOptions extends PipelineOptions {
  /** What the table keeps. */
  enum History {
    /** One row per key, the newest version. */
    none,
    /** One row per version of a key, with valid_from, valid_to, is_current and is_deleted. */
    scd2
  }

  @Description(
      "none: --table holds each key's newest version; scd2: --table holds SCD type 2 history (one"
          + " row per version of a key: valid_from, valid_to, is_current, is_deleted), rebuilt from"
          + " a ledger of every event (--historyVersions), so any order, batching or replay of the"
          + " same events gives the same history")
  @Default.Enum("none")
  @OptionPattern("^(none|scd2)$")
  History getHistory();

  void setHistory(History value);

  @Description(
      "scd2: comma-separated columns whose change opens a new version (a delete always does);"
          + " default: every column but the key and the version")
  List<String> getHistoryColumns();

  void setHistoryColumns(List<String> value);

  @Description(
      "scd2: the ledger table of every event, unique on the key and the version; default:"
          + " <table>_versions")
  @OptionPattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$")
  String getHistoryVersions();

  void setHistoryVersions(String value);
}

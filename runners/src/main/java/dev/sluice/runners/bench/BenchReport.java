package dev.sluice.runners.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Figures and ratios of one harness run, as a markdown table and a JSON-ready structure. */
final class BenchReport {
  private final List<Map<String, Object>> results;
  private final List<Long> sizes;

  BenchReport(List<Map<String, Object>> results, List<Long> sizes) {
    this.results = results;
    this.sizes = sizes;
  }

  private Double seconds(Scenario scenario, long size) {
    return value(scenario, size, "seconds");
  }

  private Double value(Scenario scenario, long size, String key) {
    for (Map<String, Object> r : results) {
      if (r.get("scenario").equals(scenario.id())
          && ((Number) r.get("size")).longValue() == size
          && r.get("failed") == null) {
        Object value = r.get(key);
        return value == null ? null : ((Number) value).doubleValue();
      }
    }
    return null;
  }

  /**
   * The comparisons, per size: name, value, target (null: informative), met. Targets apply from 1M
   * records on (smaller runs are dominated by JVM and runner start-up); every ratio is within this
   * one run, against a baseline measured on the same machine at the same time.
   */
  List<Map<String, Object>> ratios() {
    List<Map<String, Object>> ratios = new ArrayList<>();
    for (long n : sizes) {
      boolean judged = n >= 1_000_000L;
      Double copy = seconds(Scenario.SINK_COPY, n);
      Double flink = seconds(Scenario.KAFKA_TO_JDBC_FLINK, n);
      Double direct = seconds(Scenario.KAFKA_TO_JDBC_DIRECT, n);
      if (flink != null && copy != null) {
        add(
            ratios,
            n,
            "kafka-to-jdbc on Flink [local] speed / sink-copy speed",
            copy / flink,
            judged ? 0.4 : null,
            ">=");
      }
      Double sql = seconds(Scenario.KAFKA_TO_JDBC_SQL_FLINK, n);
      if (sql != null && flink != null) {
        add(
            ratios,
            n,
            "kafka-to-jdbc --sql on Flink [local] speed / kafka-to-jdbc on Flink [local] speed",
            flink / sql,
            judged ? 0.75 : null,
            ">=");
      }
      Double scd2 = seconds(Scenario.KAFKA_TO_JDBC_SCD2_FLINK, n);
      if (scd2 != null && flink != null) {
        add(
            ratios,
            n,
            "kafka-to-jdbc --history=scd2 on Flink [local] speed / kafka-to-jdbc on Flink [local]"
                + " speed",
            flink / scd2,
            judged ? 0.5 : null,
            ">=");
      }
      if (direct != null && copy != null) {
        add(
            ratios,
            n,
            "kafka-to-jdbc on Direct speed / sink-copy speed",
            copy / direct,
            judged ? 0.2 : null,
            ">=");
      }
      Double sink = seconds(Scenario.SINK_SLUICE, n);
      Double loop = seconds(Scenario.SINK_LOOP, n);
      if (sink != null && loop != null) {
        add(
            ratios,
            n,
            "sink-sluice speed / sink-loop speed",
            loop / sink,
            judged ? 2.0 : null,
            ">=");
      }
      if (copy != null && loop != null) {
        add(ratios, n, "sink-copy speed / sink-loop speed", loop / copy, null, "");
      }
      Double lake = seconds(Scenario.FILES_TO_LAKE_DIRECT, n);
      Double filesLoop = seconds(Scenario.FILES_LOOP, n);
      if (lake != null && filesLoop != null) {
        add(
            ratios,
            n,
            "files-to-lake on Direct speed / files-loop speed",
            filesLoop / lake,
            judged ? 0.4 : null,
            ">=");
      }
      Double iceberg = seconds(Scenario.FILES_TO_ICEBERG_DIRECT, n);
      Double icebergLoop = seconds(Scenario.ICEBERG_LOOP, n);
      Double kafkaToLake = seconds(Scenario.KAFKA_TO_LAKE_FLINK, n);
      if (kafkaToLake != null && icebergLoop != null) {
        add(
            ratios,
            n,
            "kafka-to-lake-flink speed / iceberg-loop speed",
            icebergLoop / kafkaToLake,
            judged ? 0.4 : null,
            ">=");
      }
      if (iceberg != null && icebergLoop != null) {
        add(
            ratios,
            n,
            "files-to-iceberg-direct speed / iceberg-loop speed",
            icebergLoop / iceberg,
            judged ? 0.5 : null,
            ">=");
      }
      for (Scenario lakeScenario :
          List.of(Scenario.FILES_TO_LAKE_DIRECT, Scenario.FILES_TO_ICEBERG_DIRECT)) {
        Double rss = value(lakeScenario, n, "peak_rss_bytes");
        if (rss != null && judged) {
          add(ratios, n, lakeScenario.id() + ": peak RSS, GB", rss / (1L << 30), 1.0, "<=");
        }
      }
      Double many = seconds(Scenario.FILES_MANY_SMALL, n);
      if (lake != null && many != null) {
        // The same rows in 20,000 small files against one file: per-file cost, not per-row.
        add(
            ratios,
            n,
            "files-many-small time / files-to-lake-direct time (20,000 files vs one)",
            many / lake,
            3.0,
            "<=");
      }
      for (Scenario scenario :
          List.of(Scenario.KAFKA_TO_JDBC_FLINK, Scenario.KAFKA_TO_JDBC_DIRECT)) {
        Double first = value(scenario, n, "first_row_seconds");
        if (first != null) {
          add(
              ratios,
              n,
              scenario.id() + ": first row in the table, seconds after the JVM started",
              first,
              judged ? 20.0 : null,
              "<=");
        }
      }
      Double peer = seconds(Scenario.PEER_DEBEZIUM_JDBC, n);
      if (flink != null && peer != null) {
        add(
            ratios,
            n,
            "kafka-to-jdbc on Flink [local] speed / Debezium JDBC sink speed",
            peer / flink,
            judged ? 1.0 : null,
            ">=");
      }
    }
    if (sizes.size() > 1) {
      long large = sizes.get(sizes.size() - 1);
      // The memory targets compare 10M with 1M; other runs compare their ends, informatively.
      long small = large > 1_000_000L && sizes.contains(1_000_000L) ? 1_000_000L : sizes.get(0);
      boolean judged = small >= 1_000_000L && large >= 10 * small;
      if (large > small) {
        for (Scenario scenario : Scenario.values()) {
          Double a = value(scenario, small, "peak_rss_bytes");
          Double b = value(scenario, large, "peak_rss_bytes");
          if (a != null && b != null && a > 0) {
            Double target =
                !judged
                    ? null
                    : scenario == Scenario.KAFKA_TO_JDBC_FLINK
                        ? Double.valueOf(1.2)
                        : scenario == Scenario.KAFKA_TO_JDBC_DIRECT ? Double.valueOf(1.5) : null;
            add(
                ratios,
                large,
                scenario.id() + ": peak RSS at N=" + large + " / at N=" + small,
                b / a,
                target,
                "<=");
          }
        }
      }
    }
    return ratios;
  }

  private static void add(
      List<Map<String, Object>> ratios,
      long size,
      String name,
      double value,
      Double target,
      String comparison) {
    Map<String, Object> ratio = new LinkedHashMap<>();
    ratio.put("size", size);
    ratio.put("name", name);
    ratio.put("value", Math.round(value * 100) / 100.0);
    ratio.put("target", target == null ? null : comparison + " " + format(target));
    ratio.put(
        "met", target == null ? null : comparison.equals(">=") ? value >= target : value <= target);
    ratios.add(ratio);
  }

  String markdown(Map<String, Object> machine, String heap, String date) {
    StringBuilder md = new StringBuilder();
    md.append("Measured ")
        .append(date)
        .append(" on ")
        .append(machine.get("cpu"))
        .append(" (")
        .append(machine.get("cores"))
        .append(" cores, ")
        .append(machine.get("memory_gb"))
        .append(" GB), ")
        .append(machine.get("java"))
        .append("; each scenario in its own JVM with -Xmx")
        .append(heap)
        .append(", against the sandbox's PostgreSQL 17 and Kafka 3.9 on the same machine.\n\n");
    md.append(
        "| scenario | N | seconds | records/s | peak RSS (MB) |\n|---|---:|---:|---:|---:|\n");
    for (Map<String, Object> r : results) {
      if (r.get("failed") != null) {
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %,d | failed: %s | | |%n",
                r.get("scenario"),
                ((Number) r.get("size")).longValue(),
                r.get("failed")));
        continue;
      }
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %,d | %.1f | %,d | %,d |%n",
              r.get("scenario"),
              ((Number) r.get("size")).longValue(),
              ((Number) r.get("seconds")).doubleValue(),
              ((Number) r.get("records_per_second")).longValue(),
              ((Number) r.get("peak_rss_bytes")).longValue() >> 20));
    }
    md.append(
        "\n| N | ratio (within this run) | value | target | met |\n|---:|---|---:|---|---|\n");
    for (Map<String, Object> r : ratios()) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %,d | %s | %s | %s | %s |%n",
              ((Number) r.get("size")).longValue(),
              r.get("name"),
              format(((Number) r.get("value")).doubleValue()),
              r.get("target") == null ? "" : r.get("target"),
              r.get("met") == null ? "" : ((Boolean) r.get("met") ? "yes" : "**no**")));
    }
    return md.toString();
  }

  private static String format(double value) {
    return value >= 1000
        ? String.format(Locale.ROOT, "%,.0f", value)
        : String.format(Locale.ROOT, "%.2f", value);
  }

  /** Cores, memory, CPU model, OS and Java of this machine. */
  static Map<String, Object> machine() {
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("cpu", cpu());
    machine.put("memory_gb", memoryGb());
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    machine.put(
        "java",
        "Java "
            + System.getProperty("java.version")
            + " ("
            + System.getProperty("java.vendor")
            + ")");
    return machine;
  }

  private static String cpu() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.replaceFirst("^model name\\s*:\\s*", ""))
          .findFirst()
          .orElse("unknown CPU");
    } catch (IOException e) {
      return "unknown CPU";
    }
  }

  private static long memoryGb() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream()
              .filter(l -> l.startsWith("MemTotal:"))
              .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
              .findFirst()
              .orElse(0L)
          / (1024 * 1024);
    } catch (IOException e) {
      return 0;
    }
  }
}

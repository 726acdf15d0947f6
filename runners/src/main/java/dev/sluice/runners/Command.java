package dev.sluice.runners;

import dev.sluice.runners.bench.BenchCommand;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

/**
 * A tool command of the launcher ({@code demo}, {@code replay}, ...): its name, the line {@code
 * --help} shows for it, and what it does. {@link #ALL} is the registry the launcher dispatches on
 * and generates its help from.
 */
interface Command {
  String name();

  /** One line for the catalog. */
  String summary();

  /** Runs it with the arguments after its name; the exit code. */
  int run(String[] args, PrintStream out, PrintStream err) throws Exception;

  /** What a command does with its arguments. */
  @FunctionalInterface
  interface Body {
    int run(String[] args, PrintStream out, PrintStream err) throws Exception;
  }

  /** A command of that name and summary doing {@code body}. */
  static Command of(String name, String summary, Body body) {
    return new Command() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String summary() {
        return summary;
      }

      @Override
      public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        return body.run(args, out, err);
      }
    };
  }

  /** Every command, in the order {@code --help} lists them. */
  List<Command> ALL =
      List.of(
          of(
              "demo",
              "Runs kafka-to-jdbc on a local sandbox with sample orders (--pipeline=files-to-lake:"
                  + " the file demo)",
              (args, out, err) -> new Demo(out, err).run(args)),
          of(
              "sandbox",
              "Starts a local PostgreSQL and Kafka broker (--flink: and a Flink cluster; --cdc: and"
                  + " Debezium capturing cdc_orders; --secure: TLS and SASL_SSL) until Ctrl-C",
              (args, out, err) -> SandboxCommand.run(args, out)),
          of(
              "migrate",
              "Applies, lists or rolls back the SQL migrations of the sample tables (apply|status|rollback"
                  + " --jdbcUrl=...)",
              (args, out, err) -> MigrateCommand.run(args, out)),
          of(
              "template",
              "Writes Dataflow Flex Template files (--pipeline=<name> -- <options>: a classic"
                  + " template)",
              (args, out, err) -> TemplateCommand.run(args, out)),
          of(
              "replay",
              "Feeds dead letters through their pipeline again after a fix (--from=..."
                  + " --pipeline=<name> <options>)",
              (args, out, err) -> ReplayCommand.run(args, out)),
          of(
              "status",
              "Prints the last runs of a run history (--runHistory=<dir> [--pipeline=<name>])",
              (args, out, err) -> StatusCommand.run(args, out)),
          of(
              "maintain",
              "Compacts an Iceberg table, expires its old snapshots, removes orphan files and"
                  + " audit branches (--output=iceberg:<table> --warehouse=<dir>)",
              (args, out, err) -> MaintainCommand.run(args, out)),
          of(
              "workflow",
              "Checks a workflow file, or backfills a job's intervals now (check|run"
                  + " --workflow=<file> [--job=<name> --from=<date> --to=<date> --jdbcUrl=...])",
              (args, out, err) -> WorkflowCommand.workflow(args, out)),
          of(
              "schedule",
              "Runs a workflow's jobs on their cron schedules on Quartz, clustered through"
                  + " PostgreSQL (--workflow=<file> --jdbcUrl=...)",
              (args, out, err) -> WorkflowCommand.schedule(args, out)),
          of(
              "dag",
              "Writes a workflow as an Airflow DAG (--workflow=<file> --output=<dir>)",
              (args, out, err) -> WorkflowCommand.dag(args, out)),
          of(
              "pii-keyset",
              "Writes a new keyset for personal-data policies and sealed dead letters"
                  + " (--output=<file>; --rotate=file:<old>: the old keys plus new primary ones)",
              (args, out, err) -> PiiCommand.keyset(args, out)),
          of(
              "detokenize",
              "Recovers the values of tokens (sluice.pii: token) with the keyset that made them"
                  + " (--piiKeyset=file:<keyset> tok_…)",
              (args, out, err) -> PiiCommand.detokenize(args, out)),
          of(
              "bench",
              "Benchmarks the pipelines against plain-Java baselines on the sandbox (see"
                  + " docs/benchmarks.md)",
              (args, out, err) -> BenchCommand.run(args, out)));

  /** The command of that name. */
  static Optional<Command> named(String name) {
    return ALL.stream().filter(c -> c.name().equals(name)).findFirst();
  }
}

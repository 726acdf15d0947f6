package dev.sluice.runners;

import java.io.PrintStream;
import java.util.List;

/**
 * {@code sluice migrate [apply|status|rollback] --jdbcUrl=... [--jdbcUser=...]
 * [--jdbcPassword=env:NAME|file:PATH] [--target=N]}.
 */
final class MigrateCommand {
  private MigrateCommand() {}

  static int run(String[] args, PrintStream out) throws Exception {
    String action = args.length > 0 && !args[0].startsWith("--") ? args[0] : "apply";
    Flags flags = Flags.parse(args, List.of("jdbcUrl", "jdbcUser", "jdbcPassword", "target"));
    String url = flags.required("jdbcUrl");
    Migrations migrations = Migrations.on(url, flags.get("jdbcUser"), flags.get("jdbcPassword"));
    switch (action) {
      case "apply" -> {
        List<String> applied = migrations.apply();
        out.println(applied.isEmpty() ? "Schema is up to date." : "Applied: " + applied);
      }
      case "status" -> migrations.status().forEach(out::println);
      case "rollback" -> {
        String target = flags.required("target");
        int version;
        try {
          version = Integer.parseInt(target);
        } catch (NumberFormatException e) {
          throw new UsageException("--target must be a version number, but was '" + target + "'");
        }
        out.println("Rolled back: " + migrations.rollbackTo(version));
      }
      default ->
          throw new UsageException(
              "Unknown migrate action '" + action + "'; expected apply, status or rollback");
    }
    return Exit.OK;
  }
}

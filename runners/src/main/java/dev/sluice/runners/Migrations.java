package dev.sluice.runners;

import dev.sluice.io.secrets.Secrets;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The versioned DDL of Sluice's target tables ({@code db/migration/V<n>__*.sql} in {@code
 * schemas/}), applied by Flyway. Each version has a rollback script ({@code
 * db/rollback/U<n>__*.sql}); Flyway Community has no undo, so rolling back runs those scripts in
 * reverse order and removes the versions from Flyway's history, in one transaction.
 */
public final class Migrations {
  static final String LOCATION = "classpath:db/migration";
  static final String ROLLBACK = "db/rollback/";

  private final String url;
  private final String user;
  private final String password;

  private Migrations(String url, String user, String password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  /** Migrations on a database; the password is a reference ({@code env:}/{@code file:}) or null. */
  public static Migrations on(String url, String user, String passwordReference) {
    return new Migrations(url, user, Secrets.resolve("jdbcPassword", passwordReference));
  }

  private Flyway flyway() {
    return Flyway.configure()
        .dataSource(url, user, password)
        .locations(LOCATION)
        .cleanDisabled(true)
        .load();
  }

  /** Applies every pending version; returns the versions applied. */
  public List<String> apply() {
    MigrateResult result = flyway().migrate();
    List<String> applied = new ArrayList<>();
    result.migrations.forEach(m -> applied.add(m.version + " " + m.description));
    return applied;
  }

  /** One line per version: version, description, state. */
  public List<String> status() {
    List<String> lines = new ArrayList<>();
    for (MigrationInfo info : flyway().info().all()) {
      lines.add(
          info.getVersion()
              + "  "
              + info.getDescription()
              + "  "
              + info.getState().getDisplayName());
    }
    return lines;
  }

  /** Rolls back every applied version above {@code target} (0 = all); returns those rolled back. */
  public List<String> rollbackTo(int target) throws SQLException, IOException {
    Flyway flyway = flyway();
    List<MigrationInfo> applied = new ArrayList<>(List.of(flyway.info().applied()));
    List<String> rolledBack = new ArrayList<>();
    try (Connection c = flyway.getConfiguration().getDataSource().getConnection()) {
      c.setAutoCommit(false);
      try (Statement statement = c.createStatement()) {
        for (int i = applied.size() - 1; i >= 0; i--) {
          MigrationInfo info = applied.get(i);
          if (info.getVersion() == null
              || Integer.parseInt(info.getVersion().getVersion()) <= target) {
            continue;
          }
          String version = info.getVersion().getVersion();
          statement.execute(rollbackScript(version, info.getDescription()));
          statement.execute(
              "DELETE FROM \"flyway_schema_history\" WHERE version = '"
                  + Integer.parseInt(version)
                  + "'");
          rolledBack.add(version + " " + info.getDescription());
        }
        c.commit();
      } catch (SQLException | IOException e) {
        c.rollback();
        throw e;
      }
    }
    return rolledBack;
  }

  private static String rollbackScript(String version, String description) throws IOException {
    String name = ROLLBACK + "U" + version + "__" + description.replace(' ', '_') + ".sql";
    try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("No rollback script " + name + " for version " + version);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}

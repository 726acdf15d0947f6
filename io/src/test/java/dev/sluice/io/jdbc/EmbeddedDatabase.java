package dev.sluice.io.jdbc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** One real PostgreSQL for the io tests that run SQL, started once per test JVM. */
final class EmbeddedDatabase {
  private static EmbeddedPostgres server;

  private EmbeddedDatabase() {}

  static synchronized String url() throws IOException {
    if (server == null) {
      server = EmbeddedPostgres.builder().start();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      server.close();
                    } catch (IOException e) {
                      // the JVM is going away
                    }
                  }));
    }
    return "jdbc:postgresql://localhost:" + server.getPort() + "/postgres";
  }

  static JdbcConnection connection() throws IOException {
    return JdbcConnection.of(url(), "postgres", null);
  }

  static Connection open() throws Exception {
    return connection().openDirect();
  }

  static void execute(String sql) throws Exception {
    try (Connection c = open();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The rows of a query, each as its columns' text joined by {@code |}. */
  static List<String> rows(String sql) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = open();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          values.add(rs.getString(i));
        }
        rows.add(String.join("|", values));
      }
    }
    return rows;
  }

  static long count(String sql) throws Exception {
    try (Connection c = open();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new SQLException(sql + ": " + e.getMessage(), e);
    }
  }
}

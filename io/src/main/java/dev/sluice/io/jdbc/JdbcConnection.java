package dev.sluice.io.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.io.secrets.Secrets;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * How to reach a database: URL, user and a password <em>reference</em> ({@code env:} or {@code
 * file:}), resolved only where a connection is opened. Connections come from one pool per JVM and
 * connection, shared by every DoFn instance on a worker.
 */
public final class JdbcConnection implements Serializable {
  private static final Map<JdbcConnection, HikariDataSource> POOLS = new ConcurrentHashMap<>();

  private final String url;
  private final String user;
  private final String passwordReference;
  private final int poolSize;

  private JdbcConnection(String url, String user, String passwordReference, int poolSize) {
    this.url = url;
    this.user = user;
    this.passwordReference = passwordReference;
    this.poolSize = poolSize;
  }

  public static JdbcConnection of(String url, String user, String passwordReference) {
    if (url == null || !url.startsWith("jdbc:")) {
      throw new IllegalArgumentException("--jdbcUrl must start with jdbc:, but was '" + url + "'");
    }
    Secrets.checkReference("jdbcPassword", passwordReference);
    return new JdbcConnection(url, user, passwordReference, 4);
  }

  public JdbcConnection withPoolSize(int poolSize) {
    if (poolSize <= 0) {
      throw new IllegalArgumentException("poolSize must be > 0, but was " + poolSize);
    }
    return new JdbcConnection(url, user, passwordReference, poolSize);
  }

  public String url() {
    return url;
  }

  /** The URL without its query string or user info, safe for logs, reports and lineage. */
  public String safeUrl() {
    String safe = url.replaceAll("[?;].*$", "");
    return safe.replaceAll("//[^/@]*@", "//");
  }

  /** The pooled data source for this connection, created on first use in this JVM. */
  public DataSource dataSource() {
    return POOLS.computeIfAbsent(this, JdbcConnection::createPool);
  }

  public Connection open() throws SQLException {
    return dataSource().getConnection();
  }

  /**
   * Closes a connection that failed and removes it from the pool, so that no later borrower gets it
   * again (a connection the server terminated, say).
   */
  public void evict(Connection c) throws SQLException {
    HikariDataSource pool = POOLS.get(this);
    if (pool != null) {
      pool.evictConnection(c);
    } else {
      c.close();
    }
  }

  /** A connection outside the pool, for one-off checks at startup (fails fast, no pool left). */
  public Connection openDirect() throws SQLException {
    java.util.Properties properties = new java.util.Properties();
    if (user != null) {
      properties.setProperty("user", user);
    }
    String password = Secrets.resolve("jdbcPassword", passwordReference);
    if (password != null) {
      properties.setProperty("password", password);
    }
    Connection connection = driver().connect(url, properties);
    if (connection == null) {
      throw new SQLException("The JDBC driver refused the URL " + safeUrl());
    }
    return connection;
  }

  /**
   * The JDBC driver for the URL, looked up among the drivers this class's loader sees. {@code
   * DriverManager} alone is not enough on a cluster: it hides drivers registered by another class
   * loader than the caller's, and Flink loads a job's jar in a child-first loader of its own.
   */
  java.sql.Driver driver() throws SQLException {
    for (java.sql.Driver driver :
        java.util.ServiceLoader.load(
            java.sql.Driver.class, JdbcConnection.class.getClassLoader())) {
      if (driver.acceptsURL(url)) {
        return driver;
      }
    }
    return java.sql.DriverManager.getDriver(url);
  }

  private HikariDataSource createPool() {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    try {
      config.setDriverClassName(driver().getClass().getName());
    } catch (SQLException e) {
      throw new IllegalArgumentException(
          "No JDBC driver for " + safeUrl() + ": " + e.getMessage(), e);
    }
    if (user != null) {
      config.setUsername(user);
    }
    String password = Secrets.resolve("jdbcPassword", passwordReference);
    if (password != null) {
      config.setPassword(password);
    }
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(0);
    config.setAutoCommit(true);
    config.setPoolName("sluice-" + Integer.toHexString(hashCode()));
    config.setInitializationFailTimeout(-1);
    return new HikariDataSource(config);
  }

  /** Closes the pools of this JVM (tests, and the launcher at exit). */
  public static void closePools() {
    POOLS.values().forEach(HikariDataSource::close);
    POOLS.clear();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JdbcConnection other
        && url.equals(other.url)
        && Objects.equals(user, other.user)
        && Objects.equals(passwordReference, other.passwordReference)
        && poolSize == other.poolSize;
  }

  @Override
  public int hashCode() {
    return Objects.hash(url, user, passwordReference, poolSize);
  }

  @Override
  public String toString() {
    return "JdbcConnection{" + safeUrl() + ", user=" + user + "}";
  }
}

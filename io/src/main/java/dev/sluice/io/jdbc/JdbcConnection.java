package dev.sluice.io.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.io.secrets.Redaction;
import dev.sluice.io.secrets.Secrets;
import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * How to reach a database: URL, user and a password <em>reference</em> ({@code env:} or {@code
 * file:}), resolved only when the server asks for the password (see {@link PasswordPlugin}).
 * Connections come from one pool per JVM and connection, shared by every DoFn instance on a worker.
 *
 * <p>A URL that carries credentials ({@code password=} or {@code user:password@}) is refused: they
 * would end up in logs, reports and templates. Messages never echo a URL beyond {@link #safeUrl}.
 */
public final class JdbcConnection implements Serializable {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(JdbcConnection.class);

  private static final Map<JdbcConnection, HikariDataSource> POOLS = new ConcurrentHashMap<>();

  /**
   * Every session works in UTC: timestamps render the same for every worker whatever its JVM's
   * zone, which the upsert's tie-break (a hash of the row's text) and watermarks rely on.
   */
  static final String SESSION_SETUP = "SET TIME ZONE 'UTC'";

  private final String url;
  private final String user;
  private final String passwordReference;
  private final int poolSize;
  private final String passwordOption;
  private final boolean allowCleartextPassword;

  private JdbcConnection(
      String url,
      String user,
      String passwordReference,
      int poolSize,
      String passwordOption,
      boolean allowCleartextPassword) {
    this.url = url;
    this.user = user;
    this.passwordReference = passwordReference;
    this.poolSize = poolSize;
    this.passwordOption = passwordOption;
    this.allowCleartextPassword = allowCleartextPassword;
  }

  /** A connection given by {@code --jdbcUrl}, {@code --jdbcUser} and {@code --jdbcPassword}. */
  public static JdbcConnection of(String url, String user, String passwordReference) {
    return of("jdbc", url, user, passwordReference);
  }

  /**
   * A connection given by the options {@code --<prefix>Url}, {@code --<prefix>User} and {@code
   * --<prefix>Password} (e.g. prefix {@code deadLetterJdbc}), which messages name.
   */
  public static JdbcConnection of(
      String optionPrefix, String url, String user, String passwordReference) {
    String urlOption = optionPrefix + "Url";
    if (url == null || !url.startsWith("jdbc:")) {
      // The value is not shown: a mistyped URL may still hold a password.
      throw new IllegalArgumentException(
          "--" + urlOption + " must start with jdbc: (e.g. jdbc:postgresql://host:5432/db)");
    }
    checkNoCredentials(urlOption, url, optionPrefix + "Password");
    Secrets.checkReference(optionPrefix + "Password", passwordReference);
    transportWarning(urlOption, url).ifPresent(LOG::warn);
    return new JdbcConnection(url, user, passwordReference, 4, optionPrefix + "Password", false);
  }

  /**
   * Refuses a URL with a password parameter or user info, naming the option (and {@code
   * passwordOption}, where the password belongs), not the value.
   */
  public static void checkNoCredentials(String option, String url, String passwordOption) {
    String lower = url.toLowerCase(Locale.ROOT);
    int query = indexOfAny(lower, '?', ';');
    String parameters = query < 0 ? "" : lower.substring(query + 1);
    for (String parameter : parameters.split("[&;]")) {
      String key = parameter.contains("=") ? parameter.substring(0, parameter.indexOf('=')) : "";
      if (key.strip().endsWith("password")) {
        throw new IllegalArgumentException(
            "--"
                + option
                + " must not carry a password (it has a '"
                + key.strip()
                + "' parameter): give it as --"
                + passwordOption
                + "=env:NAME or file:PATH");
      }
    }
    String authority = query < 0 ? lower : lower.substring(0, query);
    int slashes = authority.indexOf("//");
    if (slashes >= 0) {
      String host = authority.substring(slashes + 2);
      int end = host.indexOf('/');
      host = end < 0 ? host : host.substring(0, end);
      if (host.contains("@") && host.substring(0, host.indexOf('@')).contains(":")) {
        throw new IllegalArgumentException(
            "--"
                + option
                + " must not carry a password (it has user:password@ before the host): give it"
                + " as --"
                + passwordOption
                + "=env:NAME or file:PATH");
      }
    }
  }

  /**
   * A warning when {@code url} turns TLS off ({@code sslmode=disable}, or {@code ssl=false}) for a
   * host that is not this machine: the connection is accepted, but its password exchange and rows
   * cross the network in clear. Empty for a loopback host or a URL that leaves TLS on.
   */
  public static java.util.Optional<String> transportWarning(String option, String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    int query = indexOfAny(lower, '?', ';');
    String parameters = query < 0 ? "" : lower.substring(query + 1);
    boolean off = false;
    for (String parameter : parameters.split("[&;]")) {
      String p = parameter.strip();
      off |= p.equals("sslmode=disable") || p.equals("ssl=false");
    }
    if (!off) {
      return java.util.Optional.empty();
    }
    String authority = query < 0 ? lower : lower.substring(0, query);
    int slashes = authority.indexOf("//");
    String host = slashes < 0 ? "" : authority.substring(slashes + 2);
    int end = host.indexOf('/');
    host = end < 0 ? host : host.substring(0, end);
    host = host.substring(host.indexOf('@') + 1);
    if (host.startsWith("[")) {
      host = host.substring(1, Math.max(1, host.indexOf(']')));
    } else if (host.contains(":")) {
      host = host.substring(0, host.indexOf(':'));
    }
    boolean loopback =
        host.isEmpty()
            || host.equals("localhost")
            || host.startsWith("127.")
            || host.equals("::1")
            || host.equals("0:0:0:0:0:0:0:1");
    if (loopback) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(
        "--"
            + option
            + " turns TLS off (sslmode=disable) for "
            + host
            + ", which is not this machine: the login and every row cross the network in clear."
            + " Use sslmode=verify-full with sslrootcert=<the server's CA certificate>");
  }

  private static int indexOfAny(String text, char a, char b) {
    int i = text.indexOf(a);
    int j = text.indexOf(b);
    return i < 0 ? j : j < 0 ? i : Math.min(i, j);
  }

  public JdbcConnection withPoolSize(int poolSize) {
    if (poolSize <= 0) {
      throw new IllegalArgumentException("poolSize must be > 0, but was " + poolSize);
    }
    return new JdbcConnection(
        url, user, passwordReference, poolSize, passwordOption, allowCleartextPassword);
  }

  /** Whether to send the password when the server asks for it in cleartext (default false). */
  public JdbcConnection allowingCleartextPassword(boolean allow) {
    return new JdbcConnection(url, user, passwordReference, poolSize, passwordOption, allow);
  }

  public String url() {
    return url;
  }

  /** The URL without its query string or user info, safe for logs, reports and lineage. */
  public String safeUrl() {
    return Redaction.address(url);
  }

  private boolean isPostgres() {
    return url.startsWith("jdbc:postgresql:");
  }

  /** The pooled data source for this connection, created on first use in this JVM. */
  public DataSource dataSource() {
    return POOLS.computeIfAbsent(this, JdbcConnection::createPool);
  }

  public Connection open() throws SQLException {
    try {
      return dataSource().getConnection();
    } catch (SQLException e) {
      throw explainTls(e);
    }
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
    Connection connection;
    try {
      connection = driver().connect(url, properties());
    } catch (SQLException e) {
      throw explainTls(e);
    }
    if (connection == null) {
      throw new SQLException("The JDBC driver refused the URL " + safeUrl());
    }
    if (isPostgres()) {
      try (Statement s = connection.createStatement()) {
        s.execute(SESSION_SETUP);
      }
    }
    return connection;
  }

  /**
   * A failed TLS handshake, said in terms of what to fix: the option, whether the server's
   * certificate is not signed by the CA {@code sslrootcert} names or does not name the URL's host,
   * and the driver's own words; any other error as it is.
   */
  SQLException explainTls(SQLException e) {
    Throwable ssl = e;
    while (ssl != null && !(ssl instanceof javax.net.ssl.SSLException)) {
      ssl = ssl.getCause();
    }
    String message = String.valueOf(e.getMessage());
    if (ssl == null && !message.startsWith("SSL error")) {
      return e;
    }
    String why =
        message.contains("PKIX") || message.contains("certification path")
            ? "the server's certificate is not signed by the CA that sslrootcert names"
            : message.contains("subject alternative") || message.contains("hostname")
                ? "the server's certificate does not name the URL's host (sslmode=verify-full"
                    + " checks it)"
                : "the TLS handshake failed";
    return new SQLException(
        "--"
            + passwordOption.replace("Password", "Url")
            + ": TLS with "
            + safeUrl()
            + " failed: "
            + why
            + "; give the certificate of the CA that signed the server's as sslrootcert=<file>"
            + " (the driver said: "
            + message
            + ")",
        e.getSQLState(),
        e);
  }

  /** Work done with a connection. */
  @FunctionalInterface
  public interface Work<T> {
    T apply(Connection connection) throws SQLException;
  }

  /**
   * Does {@code work} on a connection outside the pool ({@link #openDirect}) and closes it; a
   * database error comes back as an {@link IOException} with the database's message.
   */
  public <T> T withDirect(Work<T> work) throws IOException {
    try (Connection c = openDirect()) {
      return work.apply(c);
    } catch (SQLException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /** Runs one statement (DDL, an update) on a connection outside the pool; the rows it changed. */
  public int execute(String sql) throws IOException {
    return withDirect(
        c -> {
          try (Statement s = c.createStatement()) {
            return s.executeUpdate(sql);
          }
        });
  }

  /** Runs one query and discards its rows: that it runs is the check. */
  public void probe(String query) throws IOException {
    withDirect(
        c -> {
          try (Statement s = c.createStatement()) {
            s.executeQuery(query).close();
          }
          return null;
        });
  }

  /**
   * The driver properties: the user, and for PostgreSQL the password reference for {@link
   * PasswordPlugin} (other drivers get the resolved password, as they have no such hook).
   */
  private Properties properties() {
    Properties properties = new Properties();
    if (user != null) {
      properties.setProperty("user", user);
    }
    if (isPostgres()) {
      properties.setProperty("authenticationPluginClassName", PasswordPlugin.class.getName());
      properties.setProperty(PasswordPlugin.OPTION, passwordOption);
      properties.setProperty(
          PasswordPlugin.ALLOW_CLEARTEXT, String.valueOf(allowCleartextPassword));
      if (passwordReference != null) {
        properties.setProperty(PasswordPlugin.REFERENCE, passwordReference);
      }
    } else {
      String password = Secrets.resolve(passwordOption, passwordReference);
      if (password != null) {
        properties.setProperty("password", password);
      }
    }
    return properties;
  }

  /**
   * The JDBC driver for the URL, looked up among the drivers this class's loader sees. {@code
   * DriverManager} alone is not enough on a cluster: it hides drivers registered by another class
   * loader than the caller's, and Flink loads a job's jar in a child-first loader of its own.
   */
  Driver driver() throws SQLException {
    for (Driver driver : ServiceLoader.load(Driver.class, JdbcConnection.class.getClassLoader())) {
      if (driver.acceptsURL(url)) {
        return driver;
      }
    }
    return DriverManager.getDriver(url);
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
    properties().forEach((k, v) -> config.addDataSourceProperty((String) k, v));
    if (user != null) {
      config.setUsername(user);
    }
    if (isPostgres()) {
      config.setConnectionInitSql(SESSION_SETUP);
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
        && poolSize == other.poolSize
        && passwordOption.equals(other.passwordOption)
        && allowCleartextPassword == other.allowCleartextPassword;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        url, user, passwordReference, poolSize, passwordOption, allowCleartextPassword);
  }

  @Override
  public String toString() {
    return "JdbcConnection{" + safeUrl() + ", user=" + user + "}";
  }
}

package dev.sluice.io.jdbc;

import dev.sluice.io.secrets.Secrets;
import java.util.Properties;
import org.postgresql.plugin.AuthenticationPlugin;
import org.postgresql.plugin.AuthenticationRequestType;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * Gives the PostgreSQL driver the password when, and only when, the server asks for one: the
 * password <em>reference</em> travels in the connection properties and is resolved here, at connect
 * time, so the password itself sits in no pool configuration, no properties and no serialized
 * function. A server that asks for the password in cleartext (the {@code password} method of {@code
 * pg_hba.conf}) is refused unless {@code --allowCleartextPassword} says otherwise: MD5 and SCRAM
 * never send it.
 */
public final class PasswordPlugin implements AuthenticationPlugin {
  /** The password reference ({@code env:NAME} or {@code file:PATH}). */
  static final String REFERENCE = "sluice.passwordReference";

  /** The option the reference came from, for messages. */
  static final String OPTION = "sluice.passwordOption";

  /** {@code true} to send the password when the server asks for it in cleartext. */
  static final String ALLOW_CLEARTEXT = "sluice.allowCleartextPassword";

  private final Properties info;

  /** Instantiated by the driver with the connection's properties. */
  public PasswordPlugin(Properties info) {
    this.info = info;
  }

  @Override
  public char[] getPassword(AuthenticationRequestType type) throws PSQLException {
    String option = info.getProperty(OPTION, "jdbcPassword");
    if (type == AuthenticationRequestType.CLEARTEXT_PASSWORD
        && !Boolean.parseBoolean(info.getProperty(ALLOW_CLEARTEXT))) {
      throw new PSQLException(
          "The server asks for the password in cleartext (pg_hba.conf method 'password'); Sluice"
              + " does not send it that way: use scram-sha-256 on the server, or pass"
              + " --allowCleartextPassword if the connection is otherwise protected (TLS)",
          PSQLState.CONNECTION_REJECTED);
    }
    String reference = info.getProperty(REFERENCE);
    if (reference == null) {
      throw new PSQLException(
          "The server asks for a password, but --" + option + " is not set",
          PSQLState.CONNECTION_REJECTED);
    }
    try {
      return Secrets.resolve(option, reference).toCharArray();
    } catch (IllegalArgumentException e) {
      throw new PSQLException(e.getMessage(), PSQLState.CONNECTION_REJECTED);
    }
  }
}

package dev.sluice.io.jdbc;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

/**
 * Classifies database errors: transient (retry), row-level data errors (dead-letter), or neither.
 */
public final class SqlErrors {
  private static final Set<String> TRANSIENT_STATES =
      Set.of("40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "53400");

  private SqlErrors() {}

  /** Connection lost, serialization failure, deadlock, server shutting down, too many clients. */
  public static boolean isTransient(SQLException e) {
    for (SQLException cause = e; cause != null; cause = cause.getNextException()) {
      String state = cause.getSQLState();
      if (cause instanceof SQLTransientException || cause instanceof SQLRecoverableException) {
        return true;
      }
      if (state != null && (state.startsWith("08") || TRANSIENT_STATES.contains(state))) {
        return true;
      }
    }
    return false;
  }

  /** A value the database rejects (data exception or integrity constraint): the row's fault. */
  public static boolean isRowError(SQLException e) {
    for (SQLException cause = e; cause != null; cause = cause.getNextException()) {
      String state = cause.getSQLState();
      if (state != null && (state.startsWith("22") || state.startsWith("23"))) {
        return true;
      }
    }
    return false;
  }

  /** The first SQLState found on {@code e}, its causes or its chained exceptions; or null. */
  public static String state(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        for (SQLException next = sql; next != null; next = next.getNextException()) {
          if (next.getSQLState() != null) {
            return next.getSQLState();
          }
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }

  /**
   * What went wrong, in the database's words where there are any: the message of the innermost
   * chained {@link SQLException}, or the error's class and message.
   */
  public static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        return message(sql);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  /** The database's own message, without the driver's batch wrapping. */
  public static String message(SQLException e) {
    SQLException cause = e;
    while (cause.getNextException() != null) {
      cause = cause.getNextException();
    }
    return cause.getMessage();
  }
}

package dev.sluice.io.jdbc;

import java.util.Locale;
import java.util.Set;

/**
 * Checks a query given as an option ({@code --query}) before it is ever sent: exactly one
 * statement, a query (it starts with {@code SELECT}, {@code WITH}, {@code VALUES} or {@code
 * TABLE}), with balanced parentheses and every literal and comment closed, so that wrapping it as a
 * subquery ({@code (<query>) AS s}) cannot end the subquery early. String literals ({@code '...'},
 * {@code E'...'}), quoted identifiers, dollar-quoted strings and comments are skipped over, so a
 * {@code ;} inside them is fine. The export also runs its reads in READ ONLY transactions, so a
 * query that gets past this still cannot write.
 */
public final class SqlQuery {
  private SqlQuery() {}

  /** Returns the query, or fails with a message naming the option and what is wrong. */
  public static String checkSingleQuery(String option, String sql) {
    if (sql == null || sql.isBlank()) {
      throw new IllegalArgumentException("--" + option + " must be a query, but is empty");
    }
    int depth = 0;
    int i = 0;
    int n = sql.length();
    String firstWord = null;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        i = skipBlockComment(option, sql, i);
      } else if (c == '\'') {
        boolean escapes =
            i > 0
                && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                && (i == 1 || !Character.isLetterOrDigit(sql.charAt(i - 2)));
        i = skipQuoted(option, sql, i, '\'', escapes);
      } else if (c == '"') {
        i = skipQuoted(option, sql, i, '"', false);
      } else if (c == '$' && dollarTag(sql, i) != null) {
        String tag = dollarTag(sql, i);
        int end = sql.indexOf(tag, i + tag.length());
        if (end < 0) {
          throw problem(option, "a dollar-quoted string " + tag + " is not closed");
        }
        i = end + tag.length();
      } else if (c == ';') {
        throw problem(option, "it holds more than one statement (a ';' outside literals)");
      } else if (c == '(') {
        depth++;
        i++;
      } else if (c == ')') {
        if (--depth < 0) {
          throw problem(option, "a ')' closes more than was opened");
        }
        i++;
      } else if (Character.isLetter(c)) {
        int start = i;
        while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_')) {
          i++;
        }
        if (firstWord == null) {
          firstWord = sql.substring(start, i).toLowerCase(Locale.ROOT);
        }
      } else {
        i++;
      }
    }
    if (depth != 0) {
      throw problem(option, "a '(' is not closed");
    }
    if (firstWord == null || !Set.of("select", "with", "values", "table").contains(firstWord)) {
      throw problem(option, "it must start with SELECT, WITH, VALUES or TABLE");
    }
    return sql;
  }

  private static int skipBlockComment(String option, String sql, int i) {
    int depth = 0;
    int n = sql.length();
    while (i < n) {
      if (sql.startsWith("/*", i)) {
        depth++;
        i += 2;
      } else if (sql.startsWith("*/", i)) {
        depth--;
        i += 2;
        if (depth == 0) {
          return i;
        }
      } else {
        i++;
      }
    }
    throw problem(option, "a /* comment is not closed");
  }

  private static int skipQuoted(String option, String sql, int i, char quote, boolean escapes) {
    int n = sql.length();
    i++;
    while (i < n) {
      char c = sql.charAt(i);
      if (escapes && c == '\\') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < n && sql.charAt(i + 1) == quote) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    throw problem(
        option, (quote == '"' ? "a quoted identifier" : "a string literal") + " is not closed");
  }

  /** {@code $tag$} starting at {@code i}, or null when the {@code $} starts none. */
  private static String dollarTag(String sql, int i) {
    int j = i + 1;
    while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
      j++;
    }
    if (j < sql.length()
        && sql.charAt(j) == '$'
        && (j == i + 1 || !Character.isDigit(sql.charAt(i + 1)))) {
      return sql.substring(i, j + 1);
    }
    return null;
  }

  private static IllegalArgumentException problem(String option, String what) {
    return new IllegalArgumentException(
        "--" + option + " must be one query (SELECT, WITH, VALUES or TABLE), but " + what);
  }
}

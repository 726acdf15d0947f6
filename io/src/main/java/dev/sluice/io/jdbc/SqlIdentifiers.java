package dev.sluice.io.jdbc;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * SQL identifiers that come from options (tables, columns) are validated and quoted, so a name can
 * never carry SQL. Accepted: {@code name} or {@code schema.name}, each part a letter or underscore
 * followed by letters, digits or underscores, at most 63 characters (PostgreSQL's limit).
 */
public final class SqlIdentifiers {
  private static final Pattern PART = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  private SqlIdentifiers() {}

  /** Checks a possibly schema-qualified name, failing with a message naming the option. */
  public static List<String> parts(String option, String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("--" + option + " must name a table");
    }
    String[] parts = name.split("\\.", -1);
    if (parts.length > 2) {
      throw new IllegalArgumentException(
          "--" + option + " '" + name + "' is not a valid name: use table or schema.table");
    }
    List<String> out = new ArrayList<>();
    for (String part : parts) {
      out.add(checkPart(option, name, part));
    }
    return out;
  }

  /** Checks one identifier (e.g. a column), failing with a message naming the option. */
  public static String checkPart(String option, String whole, String part) {
    if (!PART.matcher(part).matches()) {
      throw new IllegalArgumentException(
          "--"
              + option
              + " '"
              + whole
              + "' is not a valid SQL identifier: each part must match [A-Za-z_][A-Za-z0-9_]*"
              + " (at most 63 characters)");
    }
    return part;
  }

  /** Whether {@code part} is one valid identifier. */
  public static boolean isPart(String part) {
    return PART.matcher(part).matches();
  }

  /** The quoted form of a validated name: {@code "schema"."table"}. */
  public static String quote(String option, String name) {
    List<String> parts = parts(option, name);
    StringBuilder out = new StringBuilder();
    for (String part : parts) {
      if (out.length() > 0) {
        out.append('.');
      }
      out.append('"').append(part).append('"');
    }
    return out.toString();
  }

  /** The quoted form of one validated identifier. */
  public static String quotePart(String option, String part) {
    return '"' + checkPart(option, part, part) + '"';
  }
}

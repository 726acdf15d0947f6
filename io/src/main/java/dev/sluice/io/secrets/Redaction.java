package dev.sluice.io.secrets;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * The one way a URL is printed (logs, warnings, run summaries, reports, display data, error
 * messages): user info and parameter values may be credentials ({@code
 * http://user:pass@host/api?api_key=...}, {@code jdbc:...?password=...}), so they never appear.
 */
public final class Redaction {
  private static final String MASK = "***";
  private static final Pattern VALUE = Pattern.compile("=([^&;#]*)");

  private Redaction() {}

  /**
   * {@code url} as it may be printed: user info becomes {@code ***}, and each parameter value of
   * its query ({@code ?a=1&b=2}), of JDBC-style parameters ({@code ;a=1}) and of its fragment
   * becomes {@code ***}, the names kept. A list of servers ({@code user:pw@host:9092,host2:9092})
   * is redacted element by element.
   */
  public static @Nullable String url(@Nullable String url) {
    if (url == null) {
      return null;
    }
    if (!url.contains("://") && url.contains(",")) {
      StringBuilder out = new StringBuilder();
      for (String part : url.split(",", -1)) {
        if (out.length() > 0) {
          out.append(',');
        }
        out.append(one(part));
      }
      return out.toString();
    }
    return one(url);
  }

  /**
   * {@code url} as an address that names a place (lineage, display data): user info and every
   * parameter dropped, e.g. {@code jdbc:postgresql://host:5432/db}.
   */
  public static @Nullable String address(@Nullable String url) {
    if (url == null) {
      return null;
    }
    String masked = url(url);
    return masked.replaceAll("[?;#].*$", "").replace(MASK + "@", "");
  }

  private static String one(String url) {
    int scheme = url.indexOf("://");
    int start = scheme < 0 ? 0 : scheme + 3;
    int end = start;
    while (end < url.length() && "/?#;".indexOf(url.charAt(end)) < 0) {
      end++;
    }
    int at = url.lastIndexOf('@', end - 1);
    String out = at >= start ? url.substring(0, start) + MASK + url.substring(at) : url;
    int params = firstOf(out, start);
    if (params < 0) {
      return out;
    }
    Matcher values = VALUE.matcher(out.substring(params));
    return out.substring(0, params) + values.replaceAll("=" + MASK);
  }

  /** Where a URL's parameters start ({@code ?}, {@code ;} or {@code #}), or -1. */
  private static int firstOf(String url, int from) {
    for (int i = from; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c == '?' || c == ';' || c == '#') {
        return i;
      }
    }
    return -1;
  }
}

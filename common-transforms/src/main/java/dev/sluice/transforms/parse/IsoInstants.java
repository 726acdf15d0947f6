package dev.sluice.transforms.parse;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;

/**
 * ISO-8601 timestamps with an offset, read fast: the common shape {@code
 * yyyy-MM-ddTHH:mm:ss[.fraction](Z|+HH:MM|-HH:MM)} is read digit by digit; anything else goes to
 * {@link OffsetDateTime#parse}, which accepts exactly what it accepted before (and refuses the
 * same). Both give the same instant for the same text.
 */
final class IsoInstants {
  private IsoInstants() {}

  static Instant parse(String text) {
    Instant fast = fast(text);
    return fast != null ? fast : OffsetDateTime.parse(text).toInstant();
  }

  /** The instant, or null when the text is not in the common shape (or not a valid date). */
  static Instant fast(String s) {
    int n = s.length();
    if (n < 20
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0
        || month < 1
        || month > 12
        || day < 1
        || day > 28 && day > LocalDate.of(year, month, 1).lengthOfMonth()
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59) {
      return null;
    }
    int i = 19;
    int nanos = 0;
    if (i < n && s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
        i++;
      }
      int length = i - start;
      if (length == 0 || length > 9) {
        return null;
      }
      nanos = digits(s, start, length);
      for (int k = length; k < 9; k++) {
        nanos *= 10;
      }
    }
    int offsetSeconds;
    if (i == n - 1 && s.charAt(i) == 'Z') {
      offsetSeconds = 0;
    } else if (i == n - 6 && (s.charAt(i) == '+' || s.charAt(i) == '-') && s.charAt(i + 3) == ':') {
      int oh = digits(s, i + 1, 2);
      int om = digits(s, i + 4, 2);
      if (oh < 0 || oh > 18 || om < 0 || om > 59) {
        return null;
      }
      offsetSeconds = (oh * 3600 + om * 60) * (s.charAt(i) == '-' ? -1 : 1);
      if (Math.abs(offsetSeconds) > 18 * 3600) {
        return null;
      }
    } else {
      return null;
    }
    long days = LocalDate.of(year, month, day).toEpochDay();
    long seconds = days * 86_400 + hour * 3600L + minute * 60L + second - offsetSeconds;
    return Instant.ofEpochSecond(seconds, nanos);
  }

  /** The decimal value of {@code length} digits at {@code from}, or -1 if any is no digit. */
  private static int digits(String s, int from, int length) {
    int value = 0;
    for (int i = from; i < from + length; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }
}

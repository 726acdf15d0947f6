package dev.sluice.runners;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --name=value} flags of the tool commands (demo, sandbox, migrate), checked by name. */
final class Flags {
  private final Map<String, String> values;

  private Flags(Map<String, String> values) {
    this.values = values;
  }

  /** Parses flags, rejecting any not in {@code known} with a message naming it. */
  static Flags parse(String[] args, List<String> known) {
    Map<String, String> values = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--")) {
        continue;
      }
      String[] parts = arg.substring(2).split("=", 2);
      if (!known.contains(parts[0])) {
        throw new UsageException(
            "Unknown option --" + parts[0] + "; expected one of --" + String.join(", --", known));
      }
      values.put(parts[0], parts.length > 1 ? parts[1] : "true");
    }
    return new Flags(values);
  }

  String get(String name) {
    return values.get(name);
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  String required(String name) {
    String value = values.get(name);
    if (value == null) {
      throw new UsageException("Missing required option --" + name);
    }
    return value;
  }
}

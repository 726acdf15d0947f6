package dev.sluice.tests;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line of a kafka-to-jdbc run against the shared sandbox: its brokers and database (as
 * {@code postgres}), the topic and table; {@code extra} options are added, and replace a default of
 * the same name.
 */
final class KafkaToJdbcArgs {
  private KafkaToJdbcArgs() {}

  static String[] of(String topic, String table, String... extra) {
    Map<String, String> options = new LinkedHashMap<>();
    options.put("--bootstrapServers", SharedSandbox.bootstrapServers());
    options.put("--topic", topic);
    options.put("--jdbcUrl", SharedSandbox.jdbcUrl());
    options.put("--jdbcUser", "postgres");
    options.put("--table", table);
    List<String> flags = new ArrayList<>();
    for (String option : extra) {
      int equals = option.indexOf('=');
      if (equals < 0) {
        flags.add(option);
      } else {
        options.remove(option.substring(0, equals));
        options.put(option.substring(0, equals), option.substring(equals + 1));
      }
    }
    List<String> args = new ArrayList<>(List.of("kafka-to-jdbc"));
    options.forEach((name, value) -> args.add(name + "=" + value));
    args.addAll(flags);
    return args.toArray(String[]::new);
  }

  /** The same, with {@code more} options after {@code base}'s. */
  static String[] with(String[] base, String... more) {
    List<String> args = new ArrayList<>(Arrays.asList(base));
    args.addAll(Arrays.asList(more));
    return args.toArray(String[]::new);
  }
}

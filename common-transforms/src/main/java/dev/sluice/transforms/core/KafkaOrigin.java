package dev.sluice.transforms.core;

import javax.annotation.Nullable;

/**
 * Where a record read from Kafka came from, as its origin names it: {@code
 * kafka:<topic>/<partition>@<offset>}.
 */
public record KafkaOrigin(String topic, int partition, long offset) {
  private static final String PREFIX = "kafka:";

  /** The origin text of this position. */
  public String origin() {
    return prefix(topic, partition) + offset;
  }

  /** The origin text of a partition's records, without the offset. */
  public static String prefix(String topic, int partition) {
    return PREFIX + topic + "/" + partition + "@";
  }

  /** {@code <topic>/<partition>}: the key a partition's positions are kept under. */
  public String partitionKey() {
    return topic + "/" + partition;
  }

  /** The position an origin names, or null when it is not a Kafka origin. */
  public static @Nullable KafkaOrigin parse(String origin) {
    if (origin == null || !origin.startsWith(PREFIX)) {
      return null;
    }
    int at = origin.lastIndexOf('@');
    int slash = at < 0 ? -1 : origin.lastIndexOf('/', at);
    if (slash < PREFIX.length()) {
      return null;
    }
    try {
      return new KafkaOrigin(
          origin.substring(PREFIX.length(), slash),
          Integer.parseInt(origin.substring(slash + 1, at)),
          Long.parseLong(origin.substring(at + 1)));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}

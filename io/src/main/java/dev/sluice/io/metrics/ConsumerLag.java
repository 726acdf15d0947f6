package dev.sluice.io.metrics;

import java.util.Map;
import java.util.concurrent.Callable;

/**
 * How far a run's consumer group is behind on a topic, asked on each scrape of {@code /metrics}.
 *
 * @param topic the topic read
 * @param byPartition the records not yet read, by partition
 */
public record ConsumerLag(String topic, Callable<Map<Integer, Long>> byPartition) {}

package dev.sluice.io.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.annotation.Nullable;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka client settings from a properties file ({@code --kafkaProperties}: SASL/SSL and others).
 * Only the file's path travels in the pipeline; its content (which may hold credentials) is read
 * where a client is created, so it never lands in a pipeline graph, a template or a log.
 */
public final class KafkaClientProperties implements Serializable {
  private final @Nullable String path;

  private KafkaClientProperties(@Nullable String path) {
    this.path = path;
  }

  public static KafkaClientProperties fromFile(@Nullable String path) {
    if (path != null && !Files.isReadable(Path.of(path))) {
      throw new IllegalArgumentException("--kafkaProperties=" + path + " is not a readable file");
    }
    return new KafkaClientProperties(path);
  }

  /** The settings of the file, empty without one. */
  public Map<String, Object> load() {
    Map<String, Object> out = new HashMap<>();
    if (path == null) {
      return out;
    }
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new IllegalArgumentException("--kafkaProperties=" + path + " cannot be read", e);
    }
    properties.forEach((k, v) -> out.put(k.toString(), v));
    return out;
  }

  /** A producer factory for KafkaIO that adds the file's settings at the worker. */
  public SerializableFunction<Map<String, Object>, Producer<String, byte[]>> producerFactory() {
    return config -> {
      Map<String, Object> merged = new HashMap<>(config);
      merged.putAll(load());
      return new KafkaProducer<>(merged, new StringSerializer(), new ByteArraySerializer());
    };
  }

  /** A consumer factory for KafkaIO that adds the file's settings at the worker. */
  public SerializableFunction<Map<String, Object>, Consumer<byte[], byte[]>> consumerFactory() {
    return config -> {
      Map<String, Object> merged = new HashMap<>(config);
      merged.putAll(load());
      return new KafkaConsumer<>(merged, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    };
  }
}

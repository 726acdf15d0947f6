package dev.sluice.io.kafka;

import dev.sluice.io.secrets.Redaction;
import dev.sluice.io.secrets.Secrets;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.annotation.Nullable;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka client settings: the isolation level consumers read with, and a properties file ({@code
 * --kafkaProperties}: SASL/SSL and others). Only the file's path travels in the pipeline; its
 * content (which may hold credentials) is read where a client is created, so it never lands in a
 * pipeline graph, a template or a log, and no message ever quotes a value of it.
 *
 * <p>The file is a credentials file, so it is confined like a {@code file:} secret: it must lie in
 * one of the directories of {@code SLUICE_SECRET_DIRS} ({@link Secrets}), or a template parameter
 * could make Sluice read any properties file on the machine and send its SASL password to whatever
 * broker {@code --bootstrapServers} names. A credential's value may also be a reference ({@code
 * env:NAME}, {@code file:PATH}), resolved under the same rules where the client is created. The
 * settings Sluice owns (brokers, group, isolation, offsets, commits, (de)serializers) are refused
 * in the file, naming the option that sets them.
 *
 * <p>Consumers read {@code read_committed} unless asked otherwise in so many words ({@code
 * --kafkaIsolationLevel=read_uncommitted}): records of aborted transactions are never read, and
 * records of open ones only once they commit; a bounded read's end offsets are the last stable
 * offsets.
 */
public final class KafkaClientProperties implements Serializable {
  /** How consumers read transactional records (Kafka's {@code isolation.level}). */
  public enum Isolation {
    /** Records of committed transactions only, up to the last stable offset (the default). */
    read_committed,
    /** Every record, aborted and open transactions included. */
    read_uncommitted
  }

  /** Settings Sluice sets itself, and the option (or reason) for each. */
  static final Map<String, String> OWNED =
      Map.of(
          "bootstrap.servers", "--bootstrapServers",
          "group.id", "--consumerGroup",
          "isolation.level", "--kafkaIsolationLevel",
          "enable.auto.commit", "Sluice's own commits (after the writes)",
          "auto.offset.reset", "Sluice's planned offsets",
          "key.deserializer", "Sluice (raw bytes)",
          "value.deserializer", "Sluice (raw bytes)",
          "key.serializer", "Sluice",
          "value.serializer", "Sluice");

  private final @Nullable String path;
  private final Isolation isolation;

  private KafkaClientProperties(@Nullable String path, Isolation isolation) {
    this.path = path;
    this.isolation = isolation;
  }

  /** The file's settings (null: none), consumers reading {@code read_committed}. */
  public static KafkaClientProperties fromFile(@Nullable String path) {
    return of(path, Isolation.read_committed);
  }

  /**
   * The file's settings (null: none) with consumers reading at {@code isolation}; checks the file
   * now, naming what is wrong and never quoting a value.
   */
  public static KafkaClientProperties of(@Nullable String path, @Nullable Isolation isolation) {
    KafkaClientProperties properties =
        new KafkaClientProperties(path, isolation == null ? Isolation.read_committed : isolation);
    if (path != null) {
      if (!Files.isReadable(Path.of(path))) {
        throw new IllegalArgumentException("--kafkaProperties=" + path + " is not a readable file");
      }
      Secrets.checkReference("kafkaProperties", "file:" + path);
      Map<String, String> settings = properties.read();
      for (Map.Entry<String, String> setting : settings.entrySet()) {
        String owner = OWNED.get(setting.getKey());
        if (owner != null) {
          throw new IllegalArgumentException(
              "--kafkaProperties="
                  + path
                  + " sets "
                  + setting.getKey()
                  + ", which is set by "
                  + owner
                  + ": remove it from the file");
        }
        if (isCredential(setting.getKey()) && isReference(setting.getValue())) {
          Secrets.checkReference("kafkaProperties " + setting.getKey(), setting.getValue().strip());
        }
      }
    }
    return properties;
  }

  /** The isolation level consumers read with. */
  public Isolation isolation() {
    return isolation;
  }

  /**
   * Whether a setting holds a credential: SASL's JAAS config, passwords, keys and secrets. Such a
   * value may be a reference ({@code env:}/{@code file:}).
   */
  static boolean isCredential(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.equals("sasl.jaas.config")
        || k.endsWith("password")
        || k.contains("secret")
        || k.equals("ssl.keystore.key")
        || k.equals("basic.auth.user.info")
        || k.endsWith(".credentials")
        || k.endsWith("token");
  }

  private static boolean isReference(String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    return v.startsWith("env:") || v.startsWith("file:");
  }

  private Map<String, String> read() {
    Map<String, String> out = new HashMap<>();
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      // Never the exception's message: it may quote the file's content.
      throw new IllegalArgumentException(
          "--kafkaProperties=" + path + " cannot be read as a properties file");
    }
    properties.forEach((k, v) -> out.put(k.toString(), v.toString()));
    return out;
  }

  /** The settings of the file, credential references resolved; empty without one. */
  public Map<String, Object> load() {
    Map<String, Object> out = new HashMap<>();
    if (path == null) {
      return out;
    }
    for (Map.Entry<String, String> setting : read().entrySet()) {
      String value = setting.getValue();
      if (isCredential(setting.getKey()) && isReference(value)) {
        value = Secrets.resolve("kafkaProperties " + setting.getKey(), value.strip());
      }
      out.put(setting.getKey(), value);
    }
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

  /**
   * A consumer factory for KafkaIO that adds the file's settings at the worker, and the isolation
   * level unless the caller set one (KafkaIO's own offset consumer asks for {@code
   * read_uncommitted} end offsets, to hold its watermark while a transaction is open).
   */
  public SerializableFunction<Map<String, Object>, Consumer<byte[], byte[]>> consumerFactory() {
    return config -> {
      Map<String, Object> merged = new HashMap<>(config);
      merged.putAll(load());
      merged.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.name());
      return new KafkaConsumer<>(merged, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    };
  }

  /**
   * A login the brokers refused (a wrong SASL password, a certificate the client does not trust),
   * said with the listener it tried (the brokers, the security protocol and SASL mechanism the file
   * sets) and what to check; never a credential.
   */
  public IllegalArgumentException loginRefused(
      String bootstrapServers, org.apache.kafka.common.errors.AuthenticationException e) {
    Map<String, String> settings = path == null ? Map.of() : read();
    String protocol = settings.getOrDefault("security.protocol", "PLAINTEXT");
    String mechanism = settings.get("sasl.mechanism");
    boolean tls = e instanceof org.apache.kafka.common.errors.SslAuthenticationException;
    return new IllegalArgumentException(
        "Kafka at "
            + Redaction.url(bootstrapServers)
            + " ("
            + protocol
            + (mechanism == null ? "" : ", " + mechanism)
            + ") refused the "
            + (tls ? "TLS handshake" : "login")
            + ": "
            + e.getMessage()
            + (tls
                ? "; check ssl.truststore.* in --kafkaProperties (the CA that signed the broker's"
                    + " certificate)"
                : "; check the user and password that sasl.jaas.config gives in --kafkaProperties"),
        e);
  }

  /** The consumer settings a read sets itself: its isolation level. */
  public Map<String, Object> consumerSettings() {
    return Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.name());
  }
}

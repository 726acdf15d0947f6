package dev.sluice.pipelines.core;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.kafka.KafkaClientProperties;

/** Builds a pipeline's dead-letter sink from its options, defaulting to the pipeline's services. */
public final class DeadLetterSinks {
  private DeadLetterSinks() {}

  /** The sink, checked to take dead letters before the run starts. */
  public static DeadLetterSink from(DeadLetterOptions options) {
    String bootstrap = options.getDeadLetterBootstrapServers();
    KafkaClientProperties kafkaProperties = KafkaClientProperties.fromFile(null);
    String jdbcUrl = options.getDeadLetterJdbcUrl();
    String prefix = "deadLetterJdbc";
    String jdbcUser = options.getDeadLetterJdbcUser();
    String jdbcPassword = options.getDeadLetterJdbcPassword();
    if (options instanceof KafkaSourceOptions kafka) {
      bootstrap = bootstrap != null ? bootstrap : kafka.getBootstrapServers();
      kafkaProperties = KafkaClientProperties.fromFile(kafka.getKafkaProperties());
    }
    if (options instanceof JdbcOptions jdbc && jdbcUrl == null) {
      jdbcUrl = jdbc.getJdbcUrl();
      prefix = "jdbc";
      jdbcUser = jdbcUser != null ? jdbcUser : jdbc.getJdbcUser();
      jdbcPassword = jdbcPassword != null ? jdbcPassword : jdbc.getJdbcPassword();
    }
    JdbcConnection connection =
        jdbcUrl == null
            ? null
            : JdbcConnection.of(prefix, jdbcUrl, jdbcUser, jdbcPassword)
                .allowingCleartextPassword(options.getAllowCleartextPassword());
    DeadLetterSink sink =
        DeadLetterSink.parse(
            options.getDeadLetter(),
            DeadLetterSink.Format.parse(options.getDeadLetterFormat()),
            new DeadLetterSink.Targets(bootstrap, kafkaProperties, connection));
    sink.checkReachable();
    return sink;
  }
}

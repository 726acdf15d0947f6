package dev.sluice.pipelines.plan;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.pipelines.options.DeadLetterOptions;
import dev.sluice.pipelines.options.JdbcOptions;
import dev.sluice.pipelines.options.KafkaSourceOptions;

/** Builds a pipeline's dead-letter sink from its options, defaulting to the pipeline's services. */
public final class DeadLetterSinks {
  private DeadLetterSinks() {}

  /** The sink, checked to take dead letters before the run starts. */
  public static DeadLetterSink from(DeadLetterOptions options) {
    DeadLetterSink sink = parse(options, options.getDeadLetter());
    sink.checkReachable();
    return sink;
  }

  /**
   * The dead letters at {@code spec} ({@code file:<dir>}, {@code kafka:<topic>} or {@code
   * jdbc:<table>}) on the services the options name, e.g. those a replay reads.
   */
  public static DeadLetterSink parse(DeadLetterOptions options, String spec) {
    String bootstrap = options.getDeadLetterBootstrapServers();
    KafkaClientProperties kafkaProperties = KafkaClientProperties.fromFile(null);
    String jdbcUrl = options.getDeadLetterJdbcUrl();
    String prefix = "deadLetterJdbc";
    String jdbcUser = options.getDeadLetterJdbcUser();
    String jdbcPassword = options.getDeadLetterJdbcPassword();
    if (options instanceof KafkaSourceOptions kafka) {
      bootstrap = bootstrap != null ? bootstrap : kafka.getBootstrapServers();
      kafkaProperties = KafkaSourceOptions.Clients.of(kafka);
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
    return DeadLetterSink.parse(
        spec,
        DeadLetterSink.Format.parse(options.getDeadLetterFormat()),
        new DeadLetterSink.Targets(bootstrap, kafkaProperties, connection));
  }
}

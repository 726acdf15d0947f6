package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Where a pipeline sends the records it cannot process. */
public interface DeadLetterOptions extends SluiceOptions, DatabaseAuthOptions {
  @Description(
      "Dead-letter sink for records that fail: file:<dir>, kafka:<topic> or jdbc:<table> "
          + "(a table made by the sluice_dead_letters migration)")
  @Validation.Required
  @OptionPattern("^(file|kafka|jdbc):.+$")
  String getDeadLetter();

  void setDeadLetter(String value);

  @Description(
      "Serialization of dead letters: json or avro; default json for file: (JSON lines) and avro"
          + " for kafka: (Avro binary values)")
  @OptionPattern("^(json|jsonl|avro)$")
  String getDeadLetterFormat();

  void setDeadLetterFormat(String value);

  @Description(
      "Kafka brokers for --deadLetter=kafka:<topic>; defaults to the pipeline's --bootstrapServers")
  String getDeadLetterBootstrapServers();

  void setDeadLetterBootstrapServers(String value);

  @Description("JDBC URL for --deadLetter=jdbc:<table>; defaults to the pipeline's --jdbcUrl")
  String getDeadLetterJdbcUrl();

  void setDeadLetterJdbcUrl(String value);

  @Description("Database user for --deadLetter=jdbc:<table>; defaults to the pipeline's --jdbcUser")
  String getDeadLetterJdbcUser();

  void setDeadLetterJdbcUser(String value);

  @Description(
      "Password reference (env:NAME or file:PATH) for --deadLetter=jdbc:<table>; defaults to the"
          + " pipeline's --jdbcPassword")
  @OptionPattern("^(env|file):.+$")
  String getDeadLetterJdbcPassword();

  void setDeadLetterJdbcPassword(String value);
}

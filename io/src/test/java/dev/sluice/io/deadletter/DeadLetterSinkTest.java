package dev.sluice.io.deadletter;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.kafka.KafkaClientProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing {@code --deadLetter}: which sink, with what defaults, and what is refused. */
class DeadLetterSinkTest {
  private static final JdbcConnection DB =
      JdbcConnection.of("jdbc:postgresql://db.invalid:5432/sluice", "sluice", null);
  private static final DeadLetterSink.Targets ALL =
      new DeadLetterSink.Targets("broker.invalid:9092", KafkaClientProperties.fromFile(null), DB);

  @Test
  void eachSchemeIsItsOwnSinkWithItsDefaultFormat() {
    DeadLetterSink files = DeadLetterSink.parse("file:/data/dlq/", null, ALL);
    DeadLetterSink kafka = DeadLetterSink.parse("kafka:orders-dlq", null, ALL);
    DeadLetterSink jdbc = DeadLetterSink.parse("JDBC:ops.sluice_dead_letters", null, ALL);

    assertThat(files, equalTo(new FileDeadLetters("/data/dlq/", DeadLetterSink.Format.JSON, null)));
    KafkaDeadLetters topic = (KafkaDeadLetters) kafka;
    assertThat(topic.topic(), is("orders-dlq"));
    assertThat(topic.format(), is(DeadLetterSink.Format.AVRO));
    assertThat(topic.bootstrapServers(), is("broker.invalid:9092"));
    assertThat(jdbc, equalTo(new JdbcDeadLetters("ops.sluice_dead_letters", DB)));
    assertThat(jdbc.location(), is("jdbc:ops.sluice_dead_letters"));
    assertThat(
        DeadLetterSink.parse("file:/d", DeadLetterSink.Format.parse("avro"), ALL),
        equalTo(new FileDeadLetters("/d", DeadLetterSink.Format.AVRO, null)));
  }

  @Test
  void aRunTagNamesOnlyFileDeadLetters() {
    DeadLetterSink files = DeadLetterSink.parse("file:/d", null, ALL).forRun("orders-1a2b");
    assertThat(((FileDeadLetters) files).runTag(), is("orders-1a2b"));
    DeadLetterSink kafka = DeadLetterSink.parse("kafka:t", null, ALL);
    assertThat(kafka.forRun("x"), is(kafka));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> kafka.forRun("../etc"));
    assertThat(e.getMessage(), containsString("a run tag is letters, digits, - and _"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = ';',
      value = {
        "s3:bucket; --deadLetter must be file:<dir>, kafka:<topic> or jdbc:<table>, but was 's3:bucket'",
        "kafka:; --deadLetter=kafka: names no topic",
        "file:; --deadLetter=file: names no directory",
        "jdbc:dead letters; --deadLetter 'dead letters' is not a valid SQL identifier"
      })
  void aMalformedValueIsRefusedNamingWhatIsWrong(String spec, String message) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DeadLetterSink.parse(spec, null, ALL));
    assertThat(e.getMessage(), containsString(message.strip()));
  }

  @Test
  void aSinkWithoutItsServiceIsRefused() {
    DeadLetterSink.Targets none = DeadLetterSink.Targets.none();
    assertThat(
        assertThrows(
                IllegalArgumentException.class, () -> DeadLetterSink.parse("kafka:t", null, none))
            .getMessage(),
        containsString("needs Kafka brokers: set --deadLetterBootstrapServers"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class, () -> DeadLetterSink.parse("jdbc:t", null, none))
            .getMessage(),
        containsString("needs a database: set --deadLetterJdbcUrl"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> DeadLetterSink.Format.parse("xml"))
            .getMessage(),
        containsString("--deadLetterFormat must be json or avro, but was 'xml'"));
    assertThat(DeadLetterSink.parse("file:/d", null, none), instanceOf(FileDeadLetters.class));
  }
}

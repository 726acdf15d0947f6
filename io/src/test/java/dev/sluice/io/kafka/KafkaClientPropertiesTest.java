package dev.sluice.io.kafka;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka properties file is a credentials file: confined like a {@code file:} secret (the build
 * sets {@code SLUICE_SECRET_DIRS} to {@code target/}, where {@code @TempDir} lies), never quoted.
 */
class KafkaClientPropertiesTest {
  private static final String CANARY = "canary-" + UUID.randomUUID();

  @TempDir Path dir;

  @Test
  void consumersReadCommittedUnlessAskedOtherwise() {
    assertThat(
        KafkaClientProperties.fromFile(null).consumerSettings().get("isolation.level"),
        equalTo("read_committed"));
    assertThat(
        KafkaClientProperties.of(null, KafkaClientProperties.Isolation.read_uncommitted)
            .consumerSettings()
            .get("isolation.level"),
        equalTo("read_uncommitted"));
  }

  @Test
  void aFileOutsideTheSecretDirectoriesIsRefusedWithoutQuotingIt() throws Exception {
    Path outside = Files.createTempDirectory(Path.of("/tmp"), "sluice-kafka-props");
    Path file =
        Files.writeString(
            outside.resolve("client.properties"),
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"u\" password=\""
                + CANARY
                + "\";\n");
    try {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> KafkaClientProperties.fromFile(file.toString()));
      assertThat(e.getMessage(), containsString("--kafkaProperties"));
      assertThat(e.getMessage(), containsString("outside the directories secrets may be read"));
      assertThat(e.getMessage(), not(containsString(CANARY)));
    } finally {
      Files.delete(file);
      Files.delete(outside);
    }
  }

  @Test
  void settingsSluiceOwnsAreRefusedNamingTheirOption() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("client.properties"), "isolation.level=read_uncommitted\nlinger.ms=5\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> KafkaClientProperties.fromFile(file.toString()));
    assertThat(e.getMessage(), containsString("sets isolation.level"));
    assertThat(e.getMessage(), containsString("--kafkaIsolationLevel"));

    Files.writeString(file, "bootstrap.servers=evil:9092\n");
    e =
        assertThrows(
            IllegalArgumentException.class, () -> KafkaClientProperties.fromFile(file.toString()));
    assertThat(e.getMessage(), containsString("--bootstrapServers"));
    assertThat(e.getMessage(), not(containsString("evil")));
  }

  @Test
  void credentialReferencesAreResolvedUnderTheSameRules() throws Exception {
    Path secret = Files.writeString(dir.resolve("jaas"), CANARY + "\n");
    Path file =
        Files.writeString(
            dir.resolve("client.properties"),
            "security.protocol=SASL_PLAINTEXT\nsasl.jaas.config=file:" + secret + "\n");
    KafkaClientProperties properties = KafkaClientProperties.fromFile(file.toString());
    assertThat(properties.load().get("sasl.jaas.config"), equalTo(CANARY));
    assertThat(properties.load().get("security.protocol"), equalTo("SASL_PLAINTEXT"));

    // A reference that points outside the secret directories is refused when the run plans.
    Files.writeString(file, "ssl.key.password=file:/etc/hostname\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> KafkaClientProperties.fromFile(file.toString()));
    assertThat(e.getMessage(), containsString("kafkaProperties ssl.key.password"));
  }

  @Test
  void aFileThatIsNoPropertiesFileIsNamedNotQuoted() throws Exception {
    Path file = Files.writeString(dir.resolve("client.properties"), "key=\\u12zz" + CANARY + "\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> KafkaClientProperties.fromFile(file.toString()));
    assertThat(e.getMessage(), containsString("cannot be read as a properties file"));
    assertThat(e.getMessage(), not(containsString(CANARY)));
  }
}

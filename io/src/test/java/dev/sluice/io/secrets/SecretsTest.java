package dev.sluice.io.secrets;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsTest {
  @TempDir Path dir;

  private Function<String, String> env(Map<String, String> values) {
    return values::get;
  }

  @Test
  void aFileInAnAllowedDirectoryIsRead() throws Exception {
    Path secrets = Files.createDirectories(dir.resolve("secrets"));
    Files.writeString(secrets.resolve("pg"), "s3cret\n");
    assertThat(
        Secrets.resolve(
            "jdbcPassword",
            "file:" + secrets.resolve("pg"),
            env(Map.of("SLUICE_SECRET_DIRS", secrets.toString()))),
        equalTo("s3cret"));
  }

  @Test
  void aFileOutsideTheAllowedDirectoriesIsRefusedWithoutBeingRead() throws Exception {
    Path secrets = Files.createDirectories(dir.resolve("secrets"));
    Path outside = Files.writeString(dir.resolve("other"), "not-for-you");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Secrets.resolve(
                    "jdbcPassword",
                    "file:" + outside,
                    env(Map.of("SLUICE_SECRET_DIRS", secrets.toString()))));
    assertThat(e.getMessage(), containsString("outside the directories secrets may be read from"));
    assertThat(e.getMessage(), not(containsString("not-for-you")));
    // ../ and symbolic links are resolved before the comparison.
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Secrets.resolve(
                "jdbcPassword",
                "file:" + secrets + "/../other",
                env(Map.of("SLUICE_SECRET_DIRS", secrets.toString()))));
    Path link = Files.createSymbolicLink(secrets.resolve("link"), outside);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Secrets.resolve(
                "jdbcPassword",
                "file:" + link,
                env(Map.of("SLUICE_SECRET_DIRS", secrets.toString()))));
  }

  @Test
  void byDefaultFilesComeFromTheUsualSecretDirectoriesOnly() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Secrets.checkReference("jdbcPassword", "file:/etc/passwd", env(Map.of())));
    assertThat(e.getMessage(), containsString("/run/secrets"));
  }

  @Test
  void variablesMustCarryAnAllowedPrefix() {
    Map<String, String> values =
        Map.of("PGPASSWORD", "a", "SLUICE_DB", "b", "AWS_SECRET_ACCESS_KEY", "c", "APP_PW", "d");
    assertThat(Secrets.resolve("jdbcPassword", "env:PGPASSWORD", env(values)), equalTo("a"));
    assertThat(Secrets.resolve("jdbcPassword", "env:SLUICE_DB", env(values)), equalTo("b"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Secrets.resolve("jdbcPassword", "env:AWS_SECRET_ACCESS_KEY", env(values)));
    assertThat(e.getMessage(), containsString("allowed prefixes: SLUICE_, PG"));
    Map<String, String> widened = new HashMap<>(values);
    widened.put("SLUICE_SECRET_ENV_PREFIX", "APP_");
    assertThat(Secrets.resolve("jdbcPassword", "env:APP_PW", env(widened)), equalTo("d"));
  }

  @Test
  void literalsAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Secrets.checkReference("jdbcPassword", "hunter2", env(Map.of())));
    assertThat(e.getMessage(), not(containsString("hunter2")));
  }
}

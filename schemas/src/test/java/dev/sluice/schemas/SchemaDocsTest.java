package dev.sluice.schemas;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SchemaDocsTest {
  private static final Path DOCS = Path.of("README.md");

  @Test
  void schemaDocsAreCurrent() throws Exception {
    String generated = SchemaDocs.markdown();
    if (Boolean.getBoolean("sluice.writeSchemaDocs")) {
      Files.writeString(DOCS, generated, StandardCharsets.UTF_8);
    }
    assertThat(generated, containsString("| `channel` | string | yes | `\"web\"` | v2 |  |"));
    assertThat(
        generated, containsString("| `email` | string | no | `null` | v1 | `token` (since v2) |"));
    assertThat(
        "schemas/README.md is stale: rerun this test with -Dsluice.writeSchemaDocs=true",
        Files.readString(DOCS, StandardCharsets.UTF_8),
        equalTo(generated));
  }
}

package dev.sluice.pipelines.plan;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.Order;
import dev.sluice.schemas.Schemas;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A schema file is held to the contract of the schema it claims to be a version of. */
class SchemaChoiceTest {
  @TempDir Path dir;

  private Path file(String version, String symbols) throws Exception {
    String text =
        Order.getClassSchema()
            .toString(true)
            .replace("\"sluice.version\" : 2", "\"sluice.version\" : " + version)
            .replace("[ \"NEW\", \"PAID\", \"SHIPPED\", \"CANCELLED\" ]", symbols);
    return Files.writeString(dir.resolve("v" + version + symbols.length() + ".avsc"), text);
  }

  private String refusal(Path file) {
    return assertThrows(
            IllegalArgumentException.class, () -> SchemaChoice.of("Order", file.toString()))
        .getMessage();
  }

  @Test
  void withoutAFileItIsTheCurrentVersion() {
    assertThat(SchemaChoice.of("Order", null), equalTo(Schemas.byName("Order")));
  }

  @Test
  void theNextVersionKeepingTheModeIsTaken() throws Exception {
    Schema v3 =
        SchemaChoice.of(
            "Order",
            file("3", "[ \"NEW\", \"PAID\", \"SHIPPED\", \"CANCELLED\", \"REFUNDED\" ]")
                .toString());
    assertThat(Schemas.version(v3), is(3));
    assertThat(v3.getField("status").schema().getEnumSymbols().contains("REFUNDED"), is(true));
  }

  @Test
  void aBreakingVersionAWrongNumberAndAChangedReleaseAreRefused() throws Exception {
    assertThat(
        refusal(file("3", "[ \"NEW\", \"PAID\", \"SHIPPED\" ]")),
        containsString("breaks the contract of Order"));
    assertThat(
        refusal(file("4", "[ \"NEW\", \"PAID\", \"SHIPPED\", \"CANCELLED\", \"REFUNDED\" ]")),
        containsString("the next version of Order is 3"));
    assertThat(
        refusal(file("2", "[ \"NEW\", \"PAID\", \"SHIPPED\", \"CANCELLED\", \"REFUNDED\" ]")),
        containsString("released with other content"));
    assertThat(
        refusal(
            Files.writeString(
                dir.resolve("other.avsc"), "{\"type\":\"record\",\"name\":\"X\",\"fields\":[]}")),
        containsString("defines X, not dev.sluice.schemas.Order"));
  }
}

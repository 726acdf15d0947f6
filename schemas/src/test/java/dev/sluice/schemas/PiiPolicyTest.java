package dev.sluice.schemas;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class PiiPolicyTest {
  private static final Path RELEASED =
      Path.of("src/main/resources/dev/sluice/schemas/history/RELEASED");

  private static Schema schema(int version, String fields) {
    return new Schema.Parser()
        .parse(
            "{\"type\":\"record\",\"name\":\"P\",\"sluice.version\":"
                + version
                + ",\"fields\":["
                + fields
                + "]}");
  }

  private static final String ID = "{\"name\":\"id\",\"type\":\"long\"}";

  private static String email(String policy) {
    return ",{\"name\":\"email\",\"type\":[\"null\",\"string\"],\"default\":null"
        + (policy == null ? "" : ",\"sluice.pii\":\"" + policy + "\"")
        + "}";
  }

  @Test
  void theCustomerContractMarksItsPersonalData() {
    assertThat(
        PiiPolicy.of(Customer.getClassSchema()),
        equalTo(
            Map.of("name", PiiPolicy.redact, "email", PiiPolicy.token, "phone", PiiPolicy.hash)));
    assertThat(
        PiiPolicy.summary(PiiPolicy.of(Customer.getClassSchema())),
        equalTo("name=redact,email=token,phone=hash"));
    assertThat(PiiPolicy.of(Order.getClassSchema()).isEmpty(), is(true));
  }

  @Test
  void anUnknownPolicyOrOneThatDoesNotSuitItsFieldIsNamed() {
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> PiiPolicy.of(schema(1, ID + email("mask"))));
    assertThat(
        unknown.getMessage(),
        containsString("field 'email' declares unknown sluice.pii 'mask' (one of token, hash"));
    IllegalArgumentException type =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PiiPolicy.of(
                    schema(1, "{\"name\":\"id\",\"type\":\"long\",\"sluice.pii\":\"token\"}")));
    assertThat(
        type.getMessage(),
        containsString("field 'id' is \"long\", but sluice.pii 'token' gives a string"));
  }

  @Test
  void dropRemovesTheFieldFromThePublishedSchemaAndKeepsTheOthersProperties() {
    Schema contract =
        schema(
            3,
            ID
                + email("token")
                + ",{\"name\":\"ssn\",\"type\":\"string\",\"sluice.pii\":\"drop\"}");
    Schema published = PiiPolicy.published(contract);
    assertThat(
        published.getFields().stream().map(Schema.Field::name).toList(), contains("id", "email"));
    assertThat(published.getField("email").getProp("sluice.pii"), equalTo("token"));
    assertThat(Schemas.version(published), is(3));
    assertThat(published.getField("ssn"), is(nullValue()));
    assertThat(PiiPolicy.published(Order.getClassSchema()), is(Order.getClassSchema()));
  }

  /** The build's guard: a released version is recorded in history/RELEASED as it is. */
  @Test
  void everyReleasedVersionIsRecordedAsItIs() throws Exception {
    List<String> released = Files.readAllLines(RELEASED, StandardCharsets.UTF_8);
    List<String> violations = new ArrayList<>();
    for (Map.Entry<String, String> dataset : Schemas.historyDirectories().entrySet()) {
      violations.addAll(
          SchemaRelease.violations(
              dataset.getValue(), SchemaHistory.of(dataset.getValue()).versions(), released));
    }
    assertThat(String.join("\n", violations), violations, is(empty()));
  }

  @Test
  void aPolicyChangedInAReleasedVersionIsRefusedNamingTheFieldAndTheNextVersion() {
    SortedMap<Integer, Schema> history = new TreeMap<>();
    history.put(1, schema(1, ID + email(null)));
    List<String> released = List.of(SchemaRelease.line("p", 1, history.get(1)));
    assertThat(SchemaRelease.violations("p", history, released), is(empty()));

    // Tokenizing the released field in place: refused.
    history.put(1, schema(1, ID + email("token")));
    List<String> inPlace = SchemaRelease.violations("p", history, released);
    assertThat(inPlace, hasSize(1));
    assertThat(
        inPlace.get(0),
        equalTo(
            "history/p/v1.avsc changes the personal-data policy of released field(s) 'email'"
                + " (none → token) without a new version: a released version is never edited;"
                + " release the change as v2"));

    // The same change as a new version: v1 as released, v2 recorded.
    history.put(1, schema(1, ID + email(null)));
    history.put(2, schema(2, ID + email("token")));
    List<String> unrecorded = SchemaRelease.violations("p", history, released);
    assertThat(unrecorded, hasSize(1));
    assertThat(unrecorded.get(0), containsString("history/p/v2.avsc is not recorded as released"));
    List<String> both = new ArrayList<>(released);
    both.add(SchemaRelease.line("p", 2, history.get(2)));
    assertThat(SchemaRelease.violations("p", history, both), is(empty()));

    // Any other edit of a released version is refused too.
    history.put(
        1,
        schema(1, ID + email(null).replace("\"default\":null", "\"default\":null,\"doc\":\"x\"")));
    assertThat(
        SchemaRelease.violations("p", history, both).get(0),
        containsString("history/p/v1.avsc was edited after its release"));
  }
}

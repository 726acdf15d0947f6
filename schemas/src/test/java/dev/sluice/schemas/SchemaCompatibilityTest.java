package dev.sluice.schemas;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class SchemaCompatibilityTest {
  private static final String V1_FIELDS =
      "{\"name\":\"id\",\"type\":\"long\"},"
          + "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"S\",\"symbols\":[\"NEW\",\"PAID\"]}}";

  private static Schema schema(int version, String mode, String fields) {
    return new Schema.Parser()
        .parse(
            "{\"type\":\"record\",\"name\":\"T\",\"sluice.version\":"
                + version
                + (mode == null ? "" : ",\"sluice.compatibility\":\"" + mode + "\"")
                + ",\"fields\":["
                + fields
                + "]}");
  }

  private static List<String> check(Schema... versions) {
    SortedMap<Integer, Schema> history = new TreeMap<>();
    for (int i = 0; i < versions.length; i++) {
      history.put(i + 1, versions[i]);
    }
    return SchemaCompatibilityCheck.violations("T", history);
  }

  /** The build's guard: every released schema keeps the mode it declares. */
  @Test
  void everyReleasedSchemaKeepsItsCompatibilityMode() {
    for (Map.Entry<String, String> dataset : Schemas.historyDirectories().entrySet()) {
      SchemaHistory history = SchemaHistory.of(dataset.getValue());
      assertThat(
          String.join(
              "\n", SchemaCompatibilityCheck.violations(dataset.getKey(), history.versions())),
          SchemaCompatibilityCheck.violations(dataset.getKey(), history.versions()),
          is(empty()));
    }
  }

  /** The generated classes come from the newest released version: nothing unreleased ships. */
  @Test
  void generatedClassesAreTheNewestReleasedVersion() throws Exception {
    for (Map.Entry<String, String> dataset : Schemas.historyDirectories().entrySet()) {
      Schema current =
          new Schema.Parser().parse(Path.of("src/main/avro", dataset.getKey() + ".avsc").toFile());
      assertThat(
          "src/main/avro/"
              + dataset.getKey()
              + ".avsc must equal the newest file in history/"
              + dataset.getValue(),
          current,
          equalTo(SchemaHistory.of(dataset.getValue()).latest()));
    }
    assertThat(Schemas.version(Order.getClassSchema()), is(2));
  }

  @Test
  void anOptionalFieldWithADefaultIsABackwardAndForwardCompatibleChange() {
    Schema v1 = schema(1, null, V1_FIELDS);
    Schema v2 =
        schema(
            2,
            "FULL",
            V1_FIELDS + ",{\"name\":\"channel\",\"type\":[\"null\",\"string\"],\"default\":null}");
    assertThat(check(v1, v2), is(empty()));
  }

  @Test
  void aRequiredFieldWithoutDefaultBreaksBackward() {
    List<String> violations =
        check(
            schema(1, null, V1_FIELDS),
            schema(2, "BACKWARD", V1_FIELDS + ",{\"name\":\"channel\",\"type\":\"string\"}"));
    assertThat(violations, hasSize(1));
    assertThat(
        violations.get(0),
        containsString(
            "Schema T v2 breaks BACKWARD compatibility (v2 cannot read data written with v1): field 'channel' READER_FIELD_MISSING_DEFAULT_VALUE at /fields/2"));
    assertThat(violations.get(0), containsString("channel"));
  }

  @Test
  void aRenameWithoutAliasBreaksBackward() {
    String renamed = V1_FIELDS.replace("\"id\"", "\"order_id\"");
    List<String> violations = check(schema(1, null, V1_FIELDS), schema(2, null, renamed));
    assertThat(violations, hasSize(1));
    assertThat(violations.get(0), containsString("READER_FIELD_MISSING_DEFAULT_VALUE"));
    assertThat(violations.get(0), containsString("order_id"));
    String aliased =
        V1_FIELDS.replace("{\"name\":\"id\"", "{\"name\":\"order_id\",\"aliases\":[\"id\"]");
    assertThat(check(schema(1, null, V1_FIELDS), schema(2, null, aliased)), is(empty()));
  }

  @Test
  void aNarrowedTypeBreaksBackward() {
    List<String> violations =
        check(
            schema(1, null, V1_FIELDS), schema(2, null, V1_FIELDS.replace("\"long\"", "\"int\"")));
    assertThat(violations, hasSize(1));
    assertThat(violations.get(0), containsString("TYPE_MISMATCH at /fields/0/type"));
  }

  @Test
  void aRemovedEnumSymbolBreaksBackward() {
    List<String> violations =
        check(schema(1, null, V1_FIELDS), schema(2, null, V1_FIELDS.replace(",\"PAID\"", "")));
    assertThat(violations, hasSize(1));
    assertThat(
        violations.get(0),
        containsString("field 'status' MISSING_ENUM_SYMBOLS at /fields/1/type/symbols"));
    assertThat(violations.get(0), containsString("PAID"));
  }

  @Test
  void forwardModeChecksTheOldReaderAndTransitiveModesCheckEveryEarlierVersion() {
    Schema v1 = schema(1, null, V1_FIELDS);
    Schema v2 = schema(2, "FORWARD", V1_FIELDS.replace(",\"PAID\"", ",\"PAID\",\"SHIPPED\""));
    List<String> forward = check(v1, v2);
    assertThat(forward, hasSize(1));
    assertThat(forward.get(0), containsString("v1 cannot read data written with v2"));

    // v3 drops the field v1 had without default: fine against v2 (which had a default) only.
    Schema a1 = schema(1, null, "{\"name\":\"x\",\"type\":\"long\"}");
    Schema a2 =
        schema(
            2,
            null,
            "{\"name\":\"x\",\"type\":\"long\"},{\"name\":\"y\",\"type\":\"long\",\"default\":0}");
    Schema a3 = schema(3, "FORWARD_TRANSITIVE", "{\"name\":\"y\",\"type\":\"long\",\"default\":0}");
    Schema a3plain = schema(3, "FORWARD", "{\"name\":\"y\",\"type\":\"long\",\"default\":0}");
    assertThat(check(a1, a2, a3plain).size(), is(1));
    List<String> transitive = check(a1, a2, a3);
    assertThat(
        transitive.stream().map(v -> v.substring(0, v.indexOf(':'))).toList(),
        contains(
            "Schema T v3 breaks FORWARD_TRANSITIVE compatibility (v1 cannot read data written with v3)",
            "Schema T v3 breaks FORWARD_TRANSITIVE compatibility (v2 cannot read data written with v3)"));
  }
}

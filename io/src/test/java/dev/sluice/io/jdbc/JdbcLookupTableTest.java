package dev.sluice.io.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A lookup table's columns as SQL types, its rows as read, and what it refuses, on PostgreSQL. */
@ExtendWith(TestPipelineExtension.class)
class JdbcLookupTableTest {
  private static void rates() throws Exception {
    EmbeddedDatabase.execute("DROP TABLE IF EXISTS lookup_rates");
    EmbeddedDatabase.execute(
        "CREATE TABLE lookup_rates (currency text PRIMARY KEY, rate numeric(10,4) NOT NULL,"
            + " since date, updated timestamptz, active boolean NOT NULL, rank int)");
    EmbeddedDatabase.execute(
        "INSERT INTO lookup_rates VALUES ('EUR', 1, '2026-01-01', '2026-11-25T10:00:00Z', true,"
            + " 1), ('USD', 0.9123, NULL, NULL, false, NULL)");
  }

  @Test
  void columnsBecomeSqlTypesAndRowsAreReadOnce(TestPipeline pipeline) throws Exception {
    rates();
    JdbcLookupTable lookup =
        JdbcLookupTable.describe(EmbeddedDatabase.connection(), "rates=jdbc:lookup_rates");
    Schema schema = lookup.schema();
    assertThat(
        schema.getFields().stream()
            .map(
                f ->
                    f.getName()
                        + ":"
                        + f.getType().getTypeName()
                        + (f.getType().getNullable() ? "?" : ""))
            .collect(Collectors.joining(" ")),
        equalTo(
            "currency:STRING rate:DECIMAL since:LOGICAL_TYPE? updated:DATETIME? active:BOOLEAN"
                + " rank:INT32?"));
    PAssert.that(
            pipeline
                .apply(lookup.read(EmbeddedDatabase.connection()))
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (Row r) ->
                                r.getString("currency")
                                    + " "
                                    + r.getDecimal("rate").toPlainString()
                                    + " "
                                    + r.getValue("since")
                                    + " "
                                    + r.getDateTime("updated")
                                    + " "
                                    + r.getBoolean("active")
                                    + " "
                                    + r.getInt32("rank"))))
        .containsInAnyOrder(
            "EUR 1.0000 2026-01-01 2026-11-25T10:00:00.000Z true 1",
            "USD 0.9123 null null false null");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aBadOptionOrAMissingTableIsRefusedByName() throws Exception {
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () -> JdbcLookupTable.describe(EmbeddedDatabase.connection(), "rates:lookup_rates"))
            .getMessage(),
        containsString("--lookup must be <name>=jdbc:<table>"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () -> JdbcLookupTable.describe(EmbeddedDatabase.connection(), "rates=jdbc:no_such"))
            .getMessage(),
        containsString("--lookup rates: cannot read table no_such"));
    EmbeddedDatabase.execute("DROP TABLE IF EXISTS lookup_odd");
    EmbeddedDatabase.execute("CREATE TABLE lookup_odd (id int, tags text[])");
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    JdbcLookupTable.describe(EmbeddedDatabase.connection(), "odd=jdbc:lookup_odd"))
            .getMessage(),
        containsString("column tags is _text, which a lookup cannot carry"));
  }

  @Test
  void decimalColumnsGiveTheirPrecisionAndScale() throws Exception {
    rates();
    try (Connection c = EmbeddedDatabase.open()) {
      Map<String, int[]> decimals = TableCheck.decimalColumns(c, "lookup_rates");
      assertThat(List.copyOf(decimals.keySet()), equalTo(List.of("rate")));
      assertThat(decimals.get("rate")[0], equalTo(10));
      assertThat(decimals.get("rate")[1], equalTo(4));
    }
  }
}

package dev.sluice.transforms.sql;

import static dev.sluice.transforms.sql.RecordTransformTest.PIPELINE;
import static dev.sluice.transforms.sql.RecordTransformTest.order;
import static dev.sluice.transforms.sql.RecordTransformTest.orders;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.Order;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Lookups read by key and refreshed ({@code --lookupRefresh}): the query Beam SQL runs, SQL's join
 * semantics over the seekable table, a refresh that sees the table's new rows, a failed refresh
 * that keeps the old ones, and the joins refused.
 */
@ExtendWith(TestPipelineExtension.class)
class RefreshedLookupTest {
  static final Schema RATES =
      Schema.builder()
          .addStringField("currency")
          .addField("rate", Schema.FieldType.DECIMAL)
          .build();

  /** The rates the loaders read, per test: shared by the workers' copies of a lookup. */
  static final Map<String, List<Object[]>> TABLES = new java.util.concurrent.ConcurrentHashMap<>();

  static final AtomicInteger READS = new AtomicInteger();

  static RefreshedLookup.Loader loader(String table) {
    return () -> {
      READS.incrementAndGet();
      List<Object[]> rows = TABLES.get(table);
      if (rows == null) {
        throw new IllegalStateException("table " + table + " is gone");
      }
      List<Row> out = new ArrayList<>();
      for (Object[] r : rows) {
        out.add(Row.withSchema(RATES).addValues(r).build());
      }
      return out;
    };
  }

  static Object[] rate(String currency, String rate) {
    return new Object[] {currency, new java.math.BigDecimal(rate)};
  }

  private static SqlQuery query(String sql) {
    return SqlQuery.parse("enrich", sql);
  }

  @Test
  void theLookupIsNamedInItsSchemaAndEachEqualityReadsTheRecordFirst() {
    SqlQuery.Refreshing refreshing =
        query(
                "SELECT i.order_id, r.rate FROM input i LEFT JOIN rates r ON r.currency ="
                    + " i.currency AND i.status = r.status")
            .refreshing("enrich", Set.of("rates"));
    assertThat(
        refreshing.executed(),
        equalTo(
            "SELECT `i`.`_sluice_source`, i.order_id, r.rate FROM input i LEFT JOIN"
                + " sluice_lookups.rates r ON i.currency = r.currency AND i.status = r.status"));
    assertThat(refreshing.outer(), equalTo(Set.of("rates")));
    // Without an alias the table keeps its name as the columns' qualifier.
    assertThat(
        query(
                "SELECT input.order_id, rates.rate FROM input JOIN rates ON input.currency ="
                    + " rates.currency")
            .refreshing("enrich", Set.of("rates"))
            .executed(),
        containsString("FROM input JOIN sluice_lookups.rates ON input.currency = rates.currency"));
  }

  @Test
  void joinsALookupCannotAnswerByKeyAreRefusedNamingWhy() {
    for (String[] refused :
        new String[][] {
          {
            "SELECT i.order_id FROM input i RIGHT JOIN rates r ON i.currency = r.currency",
            "only JOIN or LEFT JOIN, not RIGHT JOIN"
          },
          {
            "SELECT i.order_id FROM rates r JOIN input i ON i.currency = r.currency",
            "put input first"
          },
          {
            "SELECT i.order_id FROM input i JOIN rates r ON i.amount > r.rate",
            "its ON may only be equalities of qualified columns"
          },
          {
            "SELECT i.order_id FROM input i JOIN rates r ON currency = r.currency",
            "its ON may only be equalities of qualified columns"
          },
          {
            "SELECT i.order_id FROM input i JOIN rates r ON r.currency = r.rate",
            "must compare one of its columns with another table's"
          }
        }) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> query(refused[0]).refreshing("enrich", Set.of("rates")),
              refused[0]);
      assertThat(e.getMessage(), containsString("transform step 'enrich' joins lookup rates"));
      assertThat(e.getMessage(), containsString(refused[1]));
    }
  }

  @Test
  void aRefreshSeesNewRowsAndAFailedOneKeepsTheOld() throws Exception {
    TABLES.put("seek", List.<Object[]>of(rate("EUR", "1.10")));
    RefreshedLookup lookup =
        RefreshedLookup.of("rates", RATES, loader("seek"), Duration.millis(1), PIPELINE);
    Schema key = Schema.builder().addStringField("currency").build();
    lookup.setUp(key);
    assertThat(
        lookup.seekRow(Row.withSchema(key).addValue("EUR").build()).toString(),
        containsString("1.10"));
    assertThat(lookup.seekRow(Row.withSchema(key).addValue("USD").build()), equalTo(List.of()));
    TABLES.put("seek", List.of(rate("EUR", "1.20"), rate("USD", "0.90")));
    readAgain(lookup, key);
    assertThat(
        lookup.seekRow(Row.withSchema(key).addValue("EUR").build()).toString(),
        containsString("1.20"));
    assertThat(
        lookup.seekRow(Row.withSchema(key).addValue("USD").build()).toString(),
        containsString("0.90"));
    // The table cannot be read: the rows read last stay in use.
    TABLES.remove("seek");
    readAgain(lookup, key);
    assertThat(
        lookup.seekRow(Row.withSchema(key).addValue("EUR").build()).toString(),
        containsString("1.20"));
    // A LEFT JOIN's record without a match keeps one row of NULLs.
    TABLES.put("seek", List.<Object[]>of(rate("EUR", "1.20")));
    RefreshedLookup outer = lookup.outer(true);
    outer.setUp(key);
    assertThat(
        outer.seekRow(Row.withSchema(key).addValue("GBP").build()).get(0).getValues(),
        equalTo(java.util.Arrays.asList(null, null)));
  }

  /** Seeks until the lookup's copy is older than its interval and the table was read again. */
  private static void readAgain(RefreshedLookup lookup, Schema key) {
    int reads = READS.get();
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (READS.get() == reads && System.nanoTime() < deadline) {
      lookup.seekRow(Row.withSchema(key).addValue("EUR").build());
    }
    assertThat("the table was read again", READS.get() > reads);
  }

  @Test
  void aStepJoinsTheLookupByKeyWithSqlSemantics(TestPipeline pipeline) {
    TABLES.put("pipeline", List.of(rate("EUR", "1.10"), rate("USD", "0.90"), rate("USD", "0.95")));
    RecordTransform transform =
        RecordTransform.compile(
            TransformSpec.ofSql(
                "SELECT i.order_id, CAST(r.rate AS DOUBLE) AS rate FROM input i LEFT JOIN rates r"
                    + " ON r.currency = i.currency"),
            Order.getClassSchema(),
            Map.of("rates", RefreshedLookup.nullable(RATES)),
            Map.of(),
            null);
    RecordTransform.Result result =
        transform.apply(
            orders(
                pipeline,
                order(1, "1.00", "EUR", "NEW", null),
                order(2, "2.00", "USD", "NEW", null),
                order(3, "3.00", "GBP", "NEW", null)),
            Map.of(),
            Map.of(
                "rates",
                RefreshedLookup.of(
                    "rates", RATES, loader("pipeline"), Duration.standardMinutes(5), PIPELINE)),
            PIPELINE,
            null);
    PCollection<String> rows =
        result
            .output()
            .apply(
                MapElements.into(TypeDescriptors.strings())
                    .via(t -> t.value().get("order_id") + ":" + t.value().get("rate")));
    // Several matches give several rows; no match under LEFT JOIN gives NULLs.
    PAssert.that(rows).containsInAnyOrder("1:1.1", "2:0.9", "2:0.95", "3:null");
    PAssert.that(result.deadLetters()).empty();
    pipeline.run().waitUntilFinish();
  }
}

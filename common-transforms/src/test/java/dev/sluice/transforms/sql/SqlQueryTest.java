package dev.sluice.transforms.sql;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a step's query is read before it runs: tables, aggregates, windows, the source column. */
class SqlQueryTest {
  @Test
  void aPerRecordQueryCarriesTheSourceColumnUnderTheInputsAlias() {
    SqlQuery query =
        SqlQuery.parse(
            "s",
            "select i.order_id, r.rate\nfrom input i left join rates r on i.currency = r.currency");
    assertThat(
        query.executed(),
        equalTo(
            "select `i`.`_sluice_source`, i.order_id, r.rate\n"
                + "from input i left join rates r on i.currency = r.currency"));
    assertThat(query.tables(), equalTo(List.of("input", "rates")));
    assertThat(query.aggregates(), is(false));
    assertThat(query.projection(), is(false));
    assertThat(
        query.columns(),
        equalTo(Map.of("order_id", List.of("input.order_id"), "rate", List.of("rates.rate"))));
  }

  @Test
  void aStarAlreadyCarriesTheSourceColumn() {
    SqlQuery query = SqlQuery.parse("s", "SELECT * FROM input WHERE amount > 0");
    assertThat(query.executed(), equalTo("SELECT * FROM input WHERE amount > 0"));
    assertThat(query.projection(), is(false));
  }

  @Test
  void aRenamingSelectIsAProjection() {
    SqlQuery query = SqlQuery.parse("s", "SELECT order_id, amount AS total FROM input");
    assertThat(query.projection(), is(true));
    assertThat(query.columns().get("total"), equalTo(List.of("input.amount")));
    assertThat(
        SqlQuery.parse("s", "SELECT amount * 2 AS total FROM input").projection(), is(false));
  }

  @Test
  void aGroupByWindowIsReadWithItsSizes() {
    SqlQuery tumble =
        SqlQuery.parse(
            "s",
            "SELECT currency, COUNT(*) AS n FROM input"
                + " GROUP BY currency, TUMBLE(updated_at, INTERVAL '1' HOUR)");
    assertThat(tumble.aggregates(), is(true));
    assertThat(tumble.executed(), equalTo(tumble.sql()));
    assertThat(
        tumble.window(), equalTo(new SqlQuery.Window("TUMBLE", "updated_at", 3_600_000L, 0)));
    assertThat(tumble.window().lastEnd(3_600_000L + 5), is(7_200_000L));
    SqlQuery hop =
        SqlQuery.parse(
            "s",
            "SELECT COUNT(*) AS n FROM input"
                + " GROUP BY HOP(updated_at, INTERVAL '10' MINUTE, INTERVAL '1' HOUR)");
    assertThat(
        hop.window(), equalTo(new SqlQuery.Window("HOP", "updated_at", 3_600_000L, 600_000L)));
    // The last window an event is in starts at the slide before it and lasts the size.
    assertThat(hop.window().lastEnd(601_000L), is(600_000L + 3_600_000L));
    assertThat(SqlQuery.parse("s", "SELECT COUNT(*) AS n FROM input").window(), nullValue());
  }

  @Test
  void queriesThatCannotBeAStepAreRefusedByName() {
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () -> SqlQuery.parse("s", "SELECT order_id FROM input ORDER BY order_id"))
            .getMessage(),
        containsString("ORDER BY"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () -> SqlQuery.parse("s", "SELECT order_id FROM (SELECT * FROM input) t"))
            .getMessage(),
        containsString("write another step instead of a subquery"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class, () -> SqlQuery.parse("s", "SELECT 1 FROM rates"))
            .getMessage(),
        containsString("must read the table input"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class, () -> SqlQuery.parse("s", "SELEC x FROM input"))
            .getMessage(),
        containsString("transform step 's': the SQL does not parse"));
  }
}

package dev.sluice.io.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SqlQueryTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "select * from orders",
        "  SELECT id, ';' AS semi, \"a;b\" FROM t WHERE note <> 'it''s; fine'",
        "with x as (select 1) select * from x -- a comment; with a semicolon",
        "select $$a;b$$, $tag$ ) ; $tag$ /* nested /* ; */ comment */",
        "select E'\\'; still a literal' ",
        "(select 1)",
        "values (1), (2)"
      })
  void oneQueryPasses(String sql) {
    assertThat(SqlQuery.checkSingleQuery("query", sql), equalTo(sql));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          select * from orders) s; drop table victim; --  | closes more than was opened
          select * from orders; drop table victim         | more than one statement
          select 1; select 2                              | more than one statement
          select * from orders) s, (select 1               | closes more than was opened
          select (1                                       | is not closed
          select 'open                                    | a string literal is not closed
          select /* open                                  | comment is not closed
          delete from victim                              | must start with SELECT
          select $x$ open                                 | dollar-quoted string $x$ is not closed
          """)
  void anythingElseIsRefusedNamingWhy(String sql, String why) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SqlQuery.checkSingleQuery("query", sql));
    assertThat(e.getMessage(), containsString("--query must be one query"));
    assertThat(e.getMessage(), containsString(why));
  }
}

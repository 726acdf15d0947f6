package dev.sluice.transforms.rules;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.Order;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RulesFileTest {
  private static RulesFile parse(String yaml) {
    return RulesFile.parse("rules.yaml", new StringReader(yaml), Order.getClassSchema());
  }

  @Test
  void readsTheDocumentedShape() {
    RulesFile rules =
        parse(
            """
            dataset: orders
            record_rules:
              - {rule: not_null, field: customer_id, severity: error}
              - {rule: range, field: amount, min: 0, severity: error}
              - {rule: accepted_values, field: currency, values: [EUR, USD, JPY], mostly: 0.99, severity: warn}
              - {rule: regex, field: currency, pattern: '[A-Z]{3}'}
              - {rule: max_length, field: note, max: 20, severity: warn}
              - {rule: compare, left: updated_at, op: '>=', right: created_at, name: updated_after_created}
            """);
    assertThat(rules.dataset(), equalTo("orders"));
    RulesFile withDataset =
        parse(
            """
            dataset: orders
            dataset_rules:
              - {rule: row_count, min: 1, severity: error}
              - {rule: unique, fields: [order_id], severity: error}
              - {rule: null_rate, field: note, max: 0.5, severity: warn}
              - {rule: freshness, field: updated_at, max_lag: PT24H}
              - {rule: relationships, field: customer_id, to: crm.customers, severity: warn}
              - {rule: relationships, field: currency, to: currencies, column: code, name: known_currency}
            """);
    assertThat(
        withDataset.datasetRules().stream().map(r -> r.name() + ":" + r.severity()).toList(),
        equalTo(
            List.of(
                "row_count:ERROR",
                "unique(order_id):ERROR",
                "null_rate(note):WARN",
                "freshness(updated_at):ERROR",
                "relationships(customer_id):WARN",
                "known_currency:ERROR")));
    assertThat(
        ((Relationships) withDataset.datasetRules().get(4)).toTable(), equalTo("crm.customers"));
    assertThat(
        ((Relationships) withDataset.datasetRules().get(4)).toColumn(), equalTo("customer_id"));
    assertThat(((Relationships) withDataset.datasetRules().get(5)).toColumn(), equalTo("code"));
    assertThat(
        rules.recordRules().stream()
            .map(r -> r.name() + ":" + r.severity() + ":" + r.rejects())
            .toList(),
        equalTo(
            List.of(
                "not_null(customer_id):ERROR:true",
                "range(amount):ERROR:true",
                "accepted_values(currency):WARN:false",
                "regex(currency):ERROR:true",
                "max_length(note):WARN:false",
                "updated_after_created:ERROR:true")));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          unknown rule      | `dataset: o\\nrecord_rules:\\n  - {rule: not_nul, field: note}`                  | rules.yaml line 3: unknown record rule 'not_nul'
          unknown field     | `dataset: o\\nrecord_rules:\\n  - {rule: not_null, field: note}\\n  - {rule: not_null, field: amout}` | rules.yaml line 4: field 'amout' is not in schema Order
          missing field     | `dataset: o\\nrecord_rules:\\n  - {rule: not_null}`                             | rules.yaml line 3: rule needs 'field'
          unknown key       | `dataset: o\\nrecord_rules:\\n  - {rule: range, field: amount, minn: 0}`        | rules.yaml line 3: unknown key 'minn' for rule range
          range needs bound | `dataset: o\\nrecord_rules:\\n  - {rule: range, field: amount}`                 | rules.yaml line 3: range needs min, max or both
          bad number        | `dataset: o\\nrecord_rules:\\n  - {rule: range, field: amount, min: zero}`      | rules.yaml line 3: min must be a number, but was 'zero'
          bad severity      | `dataset: o\\nrecord_rules:\\n  - {rule: not_null, field: note, severity: fatal}` | rules.yaml line 3: severity must be error or warn, but was 'fatal'
          bad mostly        | `dataset: o\\nrecord_rules:\\n  - {rule: not_null, field: note, mostly: 2}`     | rules.yaml line 3: mostly must be a fraction in (0, 1], but was 2.0
          text in range     | `dataset: o\\nrecord_rules:\\n  - {rule: range, field: currency, min: 0}`       | rules.yaml line 3: field 'currency' is
          bad regex         | `dataset: o\\nrecord_rules:\\n  - {rule: regex, field: note, pattern: '[a-'}`   | rules.yaml line 3: pattern is not a valid regular expression
          bad op            | `dataset: o\\nrecord_rules:\\n  - {rule: compare, left: version, op: '=>', right: version}` | rules.yaml line 3: op must be one of
          duplicate name    | `dataset: o\\nrecord_rules:\\n  - {rule: not_null, field: note}\\n  - {rule: not_null, field: note}` | rules.yaml line 4: rule name 'not_null(note)' is used twice
          top-level key     | `dataset: o\\nrules: []`                                                       | rules.yaml line 2: unknown key 'rules'
          relationships to  | `dataset: o\\ndataset_rules:\\n  - {rule: relationships, field: customer_id}`  | rules.yaml line 3: rule needs 'to'
          relationships tbl | `dataset: o\\ndataset_rules:\\n  - {rule: relationships, field: customer_id, to: 'customers; drop'}` | rules.yaml line 3: to must be a table name
          relationships col | `dataset: o\\ndataset_rules:\\n  - {rule: relationships, field: customer_id, to: customers, column: 'a b'}` | rules.yaml line 3: column must be a column name
          relationships typ | `dataset: o\\ndataset_rules:\\n  - {rule: relationships, field: amount, to: t}` | rules.yaml line 3: relationships needs a long, int or string field
          row_count bounds  | `dataset: o\\ndataset_rules:\\n  - {rule: row_count}`                         | rules.yaml line 3: row_count needs min, max or both
          null_rate max     | `dataset: o\\ndataset_rules:\\n  - {rule: null_rate, field: note, max: 2}`    | rules.yaml line 3: max must be a fraction in [0, 1], but was 2.0
          unique field      | `dataset: o\\ndataset_rules:\\n  - {rule: unique, fields: [order_id, oops]}` | rules.yaml line 3: field 'oops' is not in schema Order
          freshness type    | `dataset: o\\ndataset_rules:\\n  - {rule: freshness, field: note, max_lag: PT1H}` | rules.yaml line 3: freshness needs a timestamp-millis field
          freshness lag     | `dataset: o\\ndataset_rules:\\n  - {rule: freshness, field: created_at, max_lag: 1h}` | rules.yaml line 3: max_lag must be an ISO-8601 duration
          catalog table     | `dataset: o\ndataset_rules:\n  - {rule: relationships, field: customer_id, to: pg_authid, column: oid}` | rules.yaml line 3: to must be a table of the data, not of the system catalogs
          info schema       | `dataset: o\ndataset_rules:\n  - {rule: relationships, field: customer_id, to: information_schema.tables}` | rules.yaml line 3: to must be a table of the data, not of the system catalogs
          max_length huge   | `dataset: o\nrecord_rules:\n  - {rule: max_length, field: note, max: 99999999999}` | rules.yaml line 3: max must be a whole number from 0 to 2147483647, but was 99999999999
          no dataset        | `record_rules: []`                                                             | rules.yaml: 'dataset' is missing
          """)
  void rejectsAnInvalidFileNamingTheLine(String kind, String yaml, String message) {
    RulesFile.InvalidRulesException e =
        assertThrows(RulesFile.InvalidRulesException.class, () -> parse(yaml.replace("\\n", "\n")));
    assertThat(e.getMessage(), org.hamcrest.Matchers.startsWith(message));
  }

  @Test
  void invalidYamlIsRejected() {
    RulesFile.InvalidRulesException e =
        assertThrows(RulesFile.InvalidRulesException.class, () -> parse("dataset: [unclosed\n"));
    assertThat(e.getMessage().startsWith("rules.yaml: not valid YAML"), is(true));
  }

  @Test
  void changeRulesReadTheirBoundsAndRefuseBadOnes() {
    RulesFile rules =
        parse(
            """
            dataset: orders
            dataset_rules:
              - {rule: row_count_change, max_drop: 0.4, max_rise: 3.0, over_last: 7}
              - {rule: null_rate_change, field: note, max_increase: 0.1, severity: warn}
            """);
    assertThat(
        rules.datasetRules().get(0),
        equalTo(new RowCountChange("row_count_change", RecordRule.Severity.ERROR, 0.4, 3.0, 7)));
    assertThat(
        rules.datasetRules().get(1),
        equalTo(
            new NullRateChange(
                "null_rate_change(note)", RecordRule.Severity.WARN, "note", 0.1, 7)));
    assertThat(rules.datasetRules().get(1).needsHistory(), equalTo(true));
    for (String[] bad :
        new String[][] {
          {"{rule: row_count_change}", "row_count_change needs max_drop, max_rise or both"},
          {"{rule: row_count_change, max_drop: 1.5}", "max_drop must be a fraction in [0, 1]"},
          {"{rule: row_count_change, max_rise: 0.5}", "max_rise must be a factor of at least 1"},
          {"{rule: row_count_change, max_drop: 0.4, over_last: 0}", "over_last must be a whole"},
          {"{rule: null_rate_change, field: note}", "max_increase"},
          {"{rule: null_rate_change, field: nope, max_increase: 0.1}", "nope"}
        }) {
      RulesFile.InvalidRulesException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              RulesFile.InvalidRulesException.class,
              () -> parse("dataset: orders\ndataset_rules:\n  - " + bad[0] + "\n"));
      assertThat(bad[0], e.getMessage(), org.hamcrest.Matchers.containsString(bad[1]));
    }
  }
}

package dev.sluice.transforms.rules;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import java.math.BigDecimal;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.junit.jupiter.api.Test;

class RecordRuleTest {
  private static final Schema READING =
      new Schema.Parser()
          .parse(
              "{\"type\":\"record\",\"name\":\"Reading\",\"fields\":["
                  + "{\"name\":\"v\",\"type\":\"double\"},{\"name\":\"w\",\"type\":\"double\"}]}");

  private static final Schema DOUBLE = Schema.create(Schema.Type.DOUBLE);

  private static GenericData.Record reading(double v, double w) {
    GenericData.Record r = new GenericData.Record(READING);
    r.put("v", v);
    r.put("w", w);
    return r;
  }

  /** NaN and the infinities (from Avro binary, say) fail a range or a comparison, by name. */
  @Test
  void aValueThatIsNoFiniteNumberFailsRangeAndCompareNamingTheField() {
    RecordRule.Check range =
        new Range("v", DOUBLE, BigDecimal.ZERO, new BigDecimal("1e999999999"), true);
    assertThat(range.failure(reading(1, 0)), nullValue());
    assertThat(range.failure(reading(Double.NaN, 0)), equalTo("v = NaN is not a finite number"));
    assertThat(
        range.failure(reading(Double.POSITIVE_INFINITY, 0)),
        equalTo("v = Infinity is not a finite number"));
    assertThat(range.failure(reading(-1, 0)), equalTo("v = -1.0 is below 0"));
    RecordRule.Check compare = new Compare("v", DOUBLE, "<", "w", DOUBLE);
    assertThat(
        compare.failure(reading(1, Double.NEGATIVE_INFINITY)),
        equalTo("w = -Infinity is not a finite number"));
  }

  /** A bound like 1e999999999 is printed in scientific notation, never expanded. */
  @Test
  void hugeBoundsArePrintedWithoutExpandingThem() {
    RecordRule.Check range = new Range("v", DOUBLE, new BigDecimal("1e999999999"), null, true);
    assertThat(range.failure(reading(1, 0)), equalTo("v = 1.0 is below 1E+999999999"));
  }
}

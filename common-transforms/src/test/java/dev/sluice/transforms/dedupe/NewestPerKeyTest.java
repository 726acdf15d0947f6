package dev.sluice.transforms.dedupe;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.junit.jupiter.api.Test;

class NewestPerKeyTest {
  private static final Schema SCHEMA =
      new Schema.Parser()
          .parse(
              "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"k\",\"type\":\"string\"},"
                  + "{\"name\":\"v\",\"type\":\"long\"},{\"name\":\"x\",\"type\":\"string\"}]}");

  private static GenericRecord r(CharSequence k, long v, String x) {
    GenericData.Record r = new GenericData.Record(SCHEMA);
    r.put("k", k);
    r.put("v", v);
    r.put("x", x);
    return r;
  }

  @Test
  void keepsEachKeysNewestVersionTiesIncludedInBatchOrder() {
    // Keys compare by text, whether Avro gave a String or a Utf8.
    List<GenericRecord> batch =
        List.of(
            r("a", 1, "a1"),
            r("b", 5, "b5"),
            r(new Utf8("a"), 3, "a3"),
            r("a", 3, "a3bis"),
            r("c", 2, "c2"),
            r("b", 4, "b4"));
    NewestPerKey.Kept<GenericRecord> kept = NewestPerKey.of(List.of("k"), "v").keep(batch, g -> g);
    assertThat(
        kept.newest().stream().map(g -> g.get("x").toString()).toList(),
        equalTo(List.of("b5", "a3", "a3bis", "c2")));
    assertThat(kept.superseded(), is(2L));
    assertThat(kept.keys(), is(3));
    assertThat(kept.unique(), is(false));
  }

  @Test
  void aBatchWithoutTiesIsUnique() {
    NewestPerKey.Kept<GenericRecord> kept =
        NewestPerKey.of(List.of("k"), "v")
            .keep(List.of(r("a", 1, ""), r("a", 2, ""), r("b", 1, "")), g -> g);
    assertThat(kept.unique(), is(true));
    assertThat(kept.superseded(), is(1L));
  }
}

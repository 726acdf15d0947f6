package dev.sluice.runners.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.RecordParser;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SyntheticOrdersTest {
  @Test
  void orderIOfASeedIsTheSameRecordAsJsonCsvAndAvro() throws Exception {
    SyntheticOrders orders = new SyntheticOrders(42);
    RecordParser json = RecordParser.of(orders.schema(), InputFormat.parse("json"));
    RecordParser csv = RecordParser.of(orders.schema(), InputFormat.parse("csv"));
    byte[] header = SyntheticOrders.CSV_HEADER.getBytes(StandardCharsets.UTF_8);
    for (long i = 0; i < 500; i++) {
      assertThat(json.parse(SourceRecord.of("t#" + i, orders.json(i))), equalTo(orders.record(i)));
      assertThat(
          csv.parse(
              new SourceRecord(
                  "t#" + i, orders.csv(i).getBytes(StandardCharsets.UTF_8), null, header)),
          equalTo(orders.record(i)));
    }
  }

  @Test
  void aSeedFixesTheData() {
    assertThat(new SyntheticOrders(42).csv(7), equalTo(new SyntheticOrders(42).csv(7)));
    assertThat(new SyntheticOrders(42).csv(7), not(equalTo(new SyntheticOrders(43).csv(7))));
    assertThat(new SyntheticOrders(42).record(9).get("order_id"), equalTo(10L));
  }
}

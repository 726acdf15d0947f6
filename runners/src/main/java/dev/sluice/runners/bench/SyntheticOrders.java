package dev.sluice.runners.bench;

import dev.sluice.schemas.Schemas;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.SplittableRandom;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Synthetic orders from a fixed seed: order {@code i} of a seed is always the same, whichever
 * process or thread makes it, as JSON (Kafka), a CSV line (files), a record (sinks) or a COPY row.
 * Ids are {@code 1..N}, one version each, so every run writes exactly N rows.
 */
public final class SyntheticOrders {
  public static final String CSV_HEADER =
      "order_id,customer_id,amount,currency,status,created_at,updated_at,version,note,channel";
  private static final String[] CURRENCIES = {"EUR", "USD", "JPY"};
  private static final String[] STATUSES = {"NEW", "PAID", "SHIPPED", "CANCELLED"};
  private static final String[] CHANNELS = {"web", "app", "store"};
  private static final long START = Instant.parse("2026-10-01T00:00:00Z").toEpochMilli();
  private static final long MONTH = 30L * 24 * 3600 * 1000;
  private static final long DAY = 24L * 3600 * 1000;

  private final long seed;
  private final Schema schema = Schemas.byName("Order");

  public SyntheticOrders(long seed) {
    this.seed = seed;
  }

  /** The fields of order {@code i} (0-based), in the schema's order. */
  public Object[] fields(long i) {
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
    long created = START + random.nextLong(MONTH) / 1000 * 1000;
    long updated = created + random.nextLong(DAY) / 1000 * 1000;
    return new Object[] {
      i + 1,
      1 + random.nextLong(100_000),
      BigDecimal.valueOf(1 + random.nextLong(999_999), 2),
      CURRENCIES[random.nextInt(CURRENCIES.length)],
      STATUSES[random.nextInt(STATUSES.length)],
      created,
      updated,
      1L + random.nextInt(3),
      random.nextInt(4) == 0 ? null : "gift wrap, " + (i % 97),
      CHANNELS[random.nextInt(CHANNELS.length)]
    };
  }

  public byte[] json(long i) {
    Object[] f = fields(i);
    StringBuilder s = new StringBuilder(200);
    s.append("{\"order_id\":").append(f[0]);
    s.append(",\"customer_id\":").append(f[1]);
    s.append(",\"amount\":").append(((BigDecimal) f[2]).toPlainString());
    s.append(",\"currency\":\"").append(f[3]).append('"');
    s.append(",\"status\":\"").append(f[4]).append('"');
    s.append(",\"created_at\":\"").append(Instant.ofEpochMilli((Long) f[5])).append('"');
    s.append(",\"updated_at\":\"").append(Instant.ofEpochMilli((Long) f[6])).append('"');
    s.append(",\"version\":").append(f[7]);
    if (f[8] != null) {
      s.append(",\"note\":\"").append(f[8]).append('"');
    }
    s.append(",\"channel\":\"").append(f[9]).append("\"}");
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The Kafka Connect schema of {@link #connectJson} values (JsonConverter, schemas enabled). */
  private static final String CONNECT_VALUE_SCHEMA =
      "{\"type\":\"struct\",\"name\":\"Order\",\"optional\":false,\"fields\":["
          + "{\"field\":\"order_id\",\"type\":\"int64\",\"optional\":false},"
          + "{\"field\":\"customer_id\",\"type\":\"int64\",\"optional\":false},"
          + "{\"field\":\"amount\",\"type\":\"bytes\",\"optional\":false,"
          + "\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":{\"scale\":\"2\"}},"
          + "{\"field\":\"currency\",\"type\":\"string\",\"optional\":false},"
          + "{\"field\":\"status\",\"type\":\"string\",\"optional\":false},"
          + "{\"field\":\"created_at\",\"type\":\"int64\",\"optional\":false,"
          + "\"name\":\"org.apache.kafka.connect.data.Timestamp\"},"
          + "{\"field\":\"updated_at\",\"type\":\"int64\",\"optional\":false,"
          + "\"name\":\"org.apache.kafka.connect.data.Timestamp\"},"
          + "{\"field\":\"version\",\"type\":\"int64\",\"optional\":false},"
          + "{\"field\":\"note\",\"type\":\"string\",\"optional\":true},"
          + "{\"field\":\"channel\",\"type\":\"string\",\"optional\":false}]}";

  /** The key of order {@code i} as Kafka Connect JSON with its schema: {@code {order_id}}. */
  public byte[] connectKey(long i) {
    return ("{\"schema\":{\"type\":\"struct\",\"name\":\"OrderKey\",\"optional\":false,"
            + "\"fields\":[{\"field\":\"order_id\",\"type\":\"int64\",\"optional\":false}]},"
            + "\"payload\":{\"order_id\":"
            + (i + 1)
            + "}}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Order {@code i} as Kafka Connect JSON with its schema (what the Debezium JDBC sink needs): the
   * same values as {@link #json}, the amount an exact Connect decimal, timestamps in millis.
   */
  public byte[] connectJson(long i) {
    Object[] f = fields(i);
    StringBuilder s = new StringBuilder(1200);
    s.append("{\"schema\":").append(CONNECT_VALUE_SCHEMA).append(",\"payload\":{");
    s.append("\"order_id\":").append(f[0]);
    s.append(",\"customer_id\":").append(f[1]);
    s.append(",\"amount\":\"")
        .append(
            Base64.getEncoder().encodeToString(((BigDecimal) f[2]).unscaledValue().toByteArray()))
        .append('"');
    s.append(",\"currency\":\"").append(f[3]).append('"');
    s.append(",\"status\":\"").append(f[4]).append('"');
    s.append(",\"created_at\":").append(f[5]);
    s.append(",\"updated_at\":").append(f[6]);
    s.append(",\"version\":").append(f[7]);
    s.append(",\"note\":").append(f[8] == null ? "null" : "\"" + f[8] + "\"");
    s.append(",\"channel\":\"").append(f[9]).append("\"}}");
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** One CSV line (RFC 4180, no line break) under {@link #CSV_HEADER}; also COPY's CSV format. */
  public String csv(long i) {
    Object[] f = fields(i);
    return f[0]
        + ","
        + f[1]
        + ","
        + ((BigDecimal) f[2]).toPlainString()
        + ","
        + f[3]
        + ","
        + f[4]
        + ","
        + Instant.ofEpochMilli((Long) f[5])
        + ","
        + Instant.ofEpochMilli((Long) f[6])
        + ","
        + f[7]
        + ","
        + (f[8] == null ? "" : "\"" + f[8] + "\"")
        + ","
        + f[9];
  }

  public GenericRecord record(long i) {
    Object[] f = fields(i);
    GenericData.Record r = new GenericData.Record(schema);
    r.put("order_id", f[0]);
    r.put("customer_id", f[1]);
    r.put("amount", ByteBuffer.wrap(((BigDecimal) f[2]).unscaledValue().toByteArray()));
    r.put("currency", f[3]);
    r.put("status", new GenericData.EnumSymbol(schema.getField("status").schema(), f[4]));
    r.put("created_at", f[5]);
    r.put("updated_at", f[6]);
    r.put("version", f[7]);
    r.put("note", f[8]);
    r.put("channel", f[9]);
    return r;
  }

  public Schema schema() {
    return schema;
  }
}

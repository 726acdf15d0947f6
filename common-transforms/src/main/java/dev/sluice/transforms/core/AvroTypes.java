package dev.sluice.transforms.core;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;

/** Small facts about Avro schemas and raw values that every module asks. */
public final class AvroTypes {
  private AvroTypes() {}

  /** The non-null branch of an optional field's union, or the schema itself. */
  public static Schema nonNull(Schema schema) {
    if (schema.getType() != Schema.Type.UNION) {
      return schema;
    }
    return schema.getTypes().stream()
        .filter(s -> s.getType() != Schema.Type.NULL)
        .findFirst()
        .orElse(schema);
  }

  /** Whether the schema is a union with null. */
  public static boolean isOptional(Schema schema) {
    return schema.getType() == Schema.Type.UNION
        && schema.getTypes().stream().anyMatch(s -> s.getType() == Schema.Type.NULL);
  }

  /** The bytes of an Avro {@code bytes} value, without moving its position. */
  public static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }

  /** A raw Avro decimal (two's-complement unscaled bytes) at its scale. */
  public static BigDecimal decimal(ByteBuffer unscaled, int scale) {
    return new BigDecimal(new BigInteger(bytes(unscaled)), scale);
  }

  /**
   * A number as text for messages: plain digits when that is short, scientific notation otherwise,
   * so that a value like {@code 1e999999999} never expands to a billion digits.
   */
  public static String text(BigDecimal value) {
    long plainLength = Math.max(value.precision(), Math.abs((long) value.scale())) + 2;
    return plainLength <= 64 ? value.toPlainString() : value.toString();
  }
}

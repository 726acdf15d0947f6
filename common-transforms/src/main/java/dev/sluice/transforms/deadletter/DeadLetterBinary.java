package dev.sluice.transforms.deadletter;

import dev.sluice.schemas.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/** The Avro binary form of a dead letter (e.g. a Kafka message value), and back. */
public final class DeadLetterBinary {
  private DeadLetterBinary() {}

  public static byte[] toBytes(DeadLetter deadLetter) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new SpecificDatumWriter<>(DeadLetter.class).write(deadLetter, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static DeadLetter fromBytes(byte[] bytes) {
    try {
      return new SpecificDatumReader<>(DeadLetter.class)
          .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

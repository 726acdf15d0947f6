package dev.sluice.transforms.deadletter;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.schemas.SchemaHistory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/** The Avro binary form of a dead letter (e.g. a Kafka message value), and back. */
public final class DeadLetterBinary {
  /** Released versions of the dead-letter schema, newest first. */
  private static final List<Schema> WRITERS;

  static {
    List<Schema> versions = new ArrayList<>(SchemaHistory.of("dead_letter").versions().values());
    Collections.reverse(versions);
    WRITERS = List.copyOf(versions);
  }

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

  /**
   * Reads a dead letter written by any released version of its schema: plain Avro binary names no
   * writer, so each version, newest first, is tried until one reads every byte.
   */
  public static DeadLetter fromBytes(byte[] bytes) {
    IOException last = null;
    for (Schema writer : WRITERS) {
      try {
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
        DeadLetter read =
            new SpecificDatumReader<DeadLetter>(writer, DeadLetter.getClassSchema())
                .read(null, decoder);
        if (decoder.isEnd()) {
          return read;
        }
      } catch (IOException | RuntimeException e) {
        last = e instanceof IOException io ? io : new IOException(e);
      }
    }
    throw new UncheckedIOException(
        "bytes are no dead letter of any released version of its schema",
        last == null ? new IOException("unread bytes remain") : last);
  }
}

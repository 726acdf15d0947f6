package dev.sluice.io.files;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * Avro data files of a directory lake: {@code <directory>/dt=<date>/<stem>-<uuid>.avro},
 * partitioned by the date of a field (see {@link WriteLake#checkPartitionField}).
 */
public final class AvroFiles implements FileSink {
  private final String directory;
  private final String schema;
  private final WriteLake.PartitionOf partitionOf;
  private transient Schema parsed;

  private AvroFiles(String directory, String schema, WriteLake.PartitionOf partitionOf) {
    this.directory = directory.endsWith("/") ? directory : directory + "/";
    this.schema = schema;
    this.partitionOf = partitionOf;
  }

  /** Files of {@code schema}'s records under {@code directory}, by the date of {@code field}. */
  public static AvroFiles in(String directory, Schema schema, String field) {
    WriteLake.checkPartitionField(schema, field);
    return new AvroFiles(directory, schema.toString(), WriteLake.partitionOf(schema, field));
  }

  @Override
  public void setup() {
    parsed = new Schema.Parser().parse(schema);
  }

  @Override
  public String partition(GenericRecord record) {
    return partitionOf.apply(record);
  }

  @Override
  public OpenFile open(String partition, String stem) throws IOException {
    String path = directory + partition + "/" + stem + "-" + UUID.randomUUID() + ".avro";
    CountingOutputStream out =
        new CountingOutputStream(
            Channels.newOutputStream(
                FileSystems.create(FileSystems.matchNewResource(path, false), MimeTypes.BINARY)));
    DataFileWriter<GenericRecord> writer =
        new DataFileWriter<GenericRecord>(new GenericDatumWriter<>(parsed))
            .setCodec(CodecFactory.snappyCodec());
    writer.create(parsed, out);
    return new OpenFile() {
      private long records;

      @Override
      public void write(GenericRecord record) throws IOException {
        writer.append(record);
        records++;
      }

      @Override
      public WrittenFile close() throws IOException {
        writer.close();
        return new WrittenFile(
            FileSystems.matchNewResource(path, false).toString(),
            partition,
            stem,
            records,
            out.count(),
            null);
      }
    };
  }

  /** Counts the bytes written through it. */
  static final class CountingOutputStream extends FilterOutputStream {
    private long count;

    CountingOutputStream(OutputStream out) {
      super(out);
    }

    long count() {
      return count;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}

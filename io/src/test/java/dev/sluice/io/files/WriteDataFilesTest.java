package dev.sluice.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Records into data files per bundle, partition and stem, listed for the commit. */
@ExtendWith(TestPipelineExtension.class)
class WriteDataFilesTest {
  private static final Schema ROW =
      SchemaBuilder.record("Row")
          .fields()
          .requiredLong("id")
          .name("at")
          .type(
              org.apache.avro.LogicalTypes.timestampMillis()
                  .addToSchema(Schema.create(Schema.Type.LONG)))
          .noDefault()
          .endRecord();

  @TempDir Path dir;

  private static Traced<GenericRecord> row(String file, long id, String at) {
    GenericRecord r = new GenericData.Record(ROW);
    r.put("id", id);
    r.put("at", Instant.parse(at).toEpochMilli());
    return Traced.of(
        SourceRecord.of("file:" + file + "#" + id, ("" + id).getBytes(StandardCharsets.UTF_8)), r);
  }

  @Test
  void eachInputsRecordsGoToFilesOfItsStemAndPartitionListedForTheCommit(TestPipeline pipeline)
      throws Exception {
    String lake = dir.resolve("staging").toString();
    String list = dir.resolve("staging/_files").toString();
    pipeline
        .apply(
            Create.of(
                    row("/in/a.csv", 1, "2026-11-25T10:00:00Z"),
                    row("/in/a.csv", 2, "2026-11-26T10:00:00Z"),
                    row("/in/b.csv", 3, "2026-11-25T11:00:00Z"),
                    row("/in/a.csv", 4, "2026-11-25T12:00:00Z"))
                .withCoder(Traced.coder(AvroCoder.of(ROW))))
        .apply(WriteDataFiles.to(AvroFiles.in(lake, ROW, "at"), list, "p", "file:/lake"));
    pipeline.run().waitUntilFinish();

    List<WrittenFile> files = WriteDataFiles.listed(list);
    assertThat(files.stream().mapToLong(WrittenFile::records).sum(), is(4L));
    List<String> where = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    for (WrittenFile file : files) {
      assertThat(file.name().startsWith(file.stem() + "-"), is(true));
      assertThat(file.path().startsWith(lake + "/" + file.partition() + "/"), is(true));
      assertThat(file.bytes(), equalTo(new File(file.path()).length()));
      try (DataFileReader<GenericRecord> reader =
          new DataFileReader<>(new File(file.path()), new GenericDatumReader<>(ROW))) {
        for (GenericRecord r : reader) {
          ids.add((Long) r.get("id"));
          where.add(file.partition() + " " + file.stem() + " " + r.get("id"));
        }
      }
    }
    String a = LakeNames.ofInputFile("/in/a.csv");
    String b = LakeNames.ofInputFile("/in/b.csv");
    assertThat(
        where,
        containsInAnyOrder(
            "dt=2026-11-25 " + a + " 1",
            "dt=2026-11-26 " + a + " 2",
            "dt=2026-11-25 " + b + " 3",
            "dt=2026-11-25 " + a + " 4"));
    assertThat(ids, containsInAnyOrder(1L, 2L, 3L, 4L));
  }

  /** More inputs than a bundle keeps files open for: every record still lands, once. */
  @Test
  void manyInputsInOneBundleEachLandOnce(TestPipeline pipeline) throws Exception {
    List<Traced<GenericRecord>> rows = new ArrayList<>();
    for (int i = 0; i < 3 * WriteDataFiles.MAX_OPEN_FILES; i++) {
      rows.add(row("/in/f" + i + ".csv", i, "2026-11-25T10:00:00Z"));
      rows.add(row("/in/f" + i + ".csv", 1000 + i, "2026-11-25T11:00:00Z"));
    }
    String list = dir.resolve("staging/_files").toString();
    pipeline
        .apply(Create.of(rows).withCoder(Traced.coder(AvroCoder.of(ROW))))
        .apply(
            WriteDataFiles.to(
                AvroFiles.in(dir.resolve("staging").toString(), ROW, "at"), list, "p", "file:/l"));
    pipeline.run().waitUntilFinish();
    List<Long> ids = new ArrayList<>();
    for (WrittenFile file : WriteDataFiles.listed(list)) {
      try (DataFileReader<GenericRecord> reader =
          new DataFileReader<>(new File(file.path()), new GenericDatumReader<>(ROW))) {
        reader.forEach(r -> ids.add((Long) r.get("id")));
      }
    }
    ids.sort(null);
    List<Long> expected = new ArrayList<>();
    for (int i = 0; i < 3 * WriteDataFiles.MAX_OPEN_FILES; i++) {
      expected.add((long) i);
    }
    for (int i = 0; i < 3 * WriteDataFiles.MAX_OPEN_FILES; i++) {
      expected.add(1000L + i);
    }
    assertThat(ids, equalTo(expected));
  }
}

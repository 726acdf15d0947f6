package dev.sluice.io.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.core.Traced;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.junit.jupiter.api.Test;

/**
 * SCD type 2 history on PostgreSQL: the same events in order, reversed in batches of two, or
 * shuffled and applied twice give the same history rows, which are the ones a reader expects.
 */
class HistoryUpsertTest {
  private static final Schema SCHEMA =
      new Schema.Parser()
          .parse(
              "{\"type\":\"record\",\"name\":\"Item\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
                  + "{\"name\":\"version\",\"type\":\"long\"},{\"name\":\"status\",\"type\":\"string\"},"
                  + "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null},"
                  + "{\"name\":\"deleted\",\"type\":\"boolean\"}]}");

  private static Traced<GenericRecord> event(
      long id, long version, String status, String note, boolean deleted) {
    GenericData.Record r = new GenericData.Record(SCHEMA);
    r.put("id", id);
    r.put("version", version);
    r.put("status", status);
    r.put("note", note);
    r.put("deleted", deleted);
    return Traced.of(
        SourceRecord.of(
            "test:" + id + "@" + version, (id + "@" + version).getBytes(StandardCharsets.UTF_8)),
        r);
  }

  /** Updates (one of the untracked note only), a delete, a re-insert, a duplicate, late events. */
  private static List<Traced<GenericRecord>> events() {
    return List.of(
        event(1, 1, "NEW", "a", false),
        event(1, 2, "NEW", "b", false),
        event(1, 3, "PAID", "b", false),
        event(1, 4, "PAID", "b", true),
        event(1, 5, "NEW", "c", false),
        event(2, 1, "NEW", null, false),
        event(2, 1, "NEW", null, false),
        event(3, 2, "PAID", null, false),
        event(3, 1, "NEW", null, false));
  }

  private static void tables(String name) throws Exception {
    EmbeddedDatabase.execute("DROP TABLE IF EXISTS " + name + ", " + name + "_versions");
    EmbeddedDatabase.execute(
        "CREATE TABLE "
            + name
            + " (id bigint NOT NULL, version bigint NOT NULL, status text NOT NULL, note text,"
            + " deleted boolean NOT NULL, valid_from bigint NOT NULL, valid_to bigint, is_current"
            + " boolean NOT NULL, is_deleted boolean NOT NULL, PRIMARY KEY (id, valid_from))");
    EmbeddedDatabase.execute(
        "CREATE TABLE "
            + name
            + "_versions (id bigint NOT NULL, version bigint NOT NULL, status text NOT NULL,"
            + " note text, deleted boolean NOT NULL, PRIMARY KEY (id, version))");
  }

  private static void apply(String table, List<Traced<GenericRecord>> events, int batchSize)
      throws Exception {
    HistorySql history =
        HistorySql.of(
            table,
            table + "_versions",
            SCHEMA,
            List.of("id"),
            "version",
            List.of("status"),
            "deleted");
    UpsertSql ledger =
        UpsertSql.of(history.ledger(), SCHEMA, history.ledgerKey(), history.versionField());
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    pipeline
        .apply(Create.of(events).withCoder(Traced.coder(AvroCoder.of(SCHEMA))))
        .apply(
            JdbcUpsert.into(EmbeddedDatabase.connection(), ledger, "test")
                .withBatchSize(batchSize)
                .withHistory(history));
    pipeline.run().waitUntilFinish();
  }

  private static List<String> history(String table) throws Exception {
    return EmbeddedDatabase.rows(
        "SELECT id, valid_from, valid_to, is_current, is_deleted, status, note FROM "
            + table
            + " ORDER BY id, valid_from");
  }

  @Test
  void theHistoryIsAFunctionOfTheSetOfEvents() throws Exception {
    List<String> expected =
        List.of(
            "1|1|3|f|f|NEW|a",
            "1|3|4|f|f|PAID|b",
            "1|4|5|f|t|PAID|b",
            "1|5|null|t|f|NEW|c",
            "2|1|null|t|f|NEW|null",
            "3|1|2|f|f|NEW|null",
            "3|2|null|t|f|PAID|null");
    tables("items_in_order");
    apply("items_in_order", events(), 100);
    assertThat(history("items_in_order"), equalTo(expected));

    tables("items_reversed");
    List<Traced<GenericRecord>> reversed = new ArrayList<>(events());
    Collections.reverse(reversed);
    apply("items_reversed", reversed, 2);
    assertThat(history("items_reversed"), equalTo(expected));

    tables("items_shuffled");
    List<Traced<GenericRecord>> shuffled = new ArrayList<>(events());
    Collections.shuffle(shuffled, new Random(3));
    apply("items_shuffled", shuffled, 3);
    Collections.shuffle(shuffled, new Random(4));
    apply("items_shuffled", shuffled, 1);
    assertThat(history("items_shuffled"), equalTo(expected));
  }
}

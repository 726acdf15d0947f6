package dev.sluice.pipelines.kafkatojdbc;

import dev.sluice.io.deadletter.DeadLetterSink;
import dev.sluice.io.jdbc.JdbcConnection;
import dev.sluice.io.jdbc.JdbcReferenceLookup;
import dev.sluice.io.jdbc.JdbcUpsert;
import dev.sluice.io.jdbc.SqlIdentifiers;
import dev.sluice.io.jdbc.TableCheck;
import dev.sluice.io.kafka.KafkaClientProperties;
import dev.sluice.io.kafka.KafkaSource;
import dev.sluice.pipelines.core.DeadLetterSinks;
import dev.sluice.pipelines.core.Rules;
import dev.sluice.pipelines.core.RunPlan;
import dev.sluice.pipelines.core.SluicePipeline;
import dev.sluice.schemas.Schemas;
import dev.sluice.transforms.core.Accounting;
import dev.sluice.transforms.core.Result;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetterRouting;
import dev.sluice.transforms.parse.InputFormat;
import dev.sluice.transforms.parse.ParseRecords;
import dev.sluice.transforms.time.EventTimeFromField;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * kafka-to-jdbc: loads events from a Kafka topic, parses them against a schema, dead-letters what
 * does not parse, keeps the newest version per key, and upserts into a table guarded by the version
 * so that any order of the same events converges to the same table. Bounded or streaming with the
 * same transforms.
 */
public final class KafkaToJdbc implements SluicePipeline<KafkaToJdbcOptions> {
  public static final String NAME = "kafka-to-jdbc";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Kafka events into a PostgreSQL table: idempotent versioned upsert, streaming or bounded";
  }

  @Override
  public String lineage() {
    return "Loads events from Kafka topic --topic, parses each value (--format) against schema"
        + " --schema, dead-letters what does not parse, fit or pass the --rules to --deadLetter,"
        + " keeps the newest"
        + " version (--versionField) per key (--keyFields) within each write batch, and upserts into"
        + " --table, never replacing a row with an older version.";
  }

  @Override
  public Class<KafkaToJdbcOptions> optionsClass() {
    return KafkaToJdbcOptions.class;
  }

  @Override
  public RunPlan build(Pipeline pipeline, KafkaToJdbcOptions options) {
    Schema schema = Schemas.byName(options.getSchema());
    InputFormat format =
        InputFormat.parse(options.getFormat() == null ? "json" : options.getFormat());
    if (format == InputFormat.CSV) {
      throw new IllegalArgumentException(
          "--format must be json or avro for Kafka values, but was csv");
    }
    SqlIdentifiers.parts("table", options.getTable());
    List<String> keys =
        Arrays.stream(options.getKeyFields().split(",")).map(String::strip).toList();
    JdbcConnection connection =
        JdbcConnection.of(options.getJdbcUrl(), options.getJdbcUser(), options.getJdbcPassword())
            .allowingCleartextPassword(options.getAllowCleartextPassword());
    Rules rules = Rules.load(options, schema, NAME, new JdbcReferenceLookup(connection));
    boolean bounded = options.getBounded();
    // Write-audit-publish: a bounded run judged by rules writes to a staging copy of the table and
    // merges it into the table only once the quality gate is open.
    String staging =
        bounded && rules != null && rules.gates() ? StagingTable.name(options.getTable()) : null;
    // Progress lines of a bounded run: records read (against the planned offsets) and written.
    String runId = java.util.UUID.randomUUID().toString();
    JdbcUpsert toTable =
        JdbcUpsert.into(connection, options.getTable(), schema, NAME)
            .withProgressOf(runId)
            .withKeyFields(keys)
            .withVersionField(options.getVersionField())
            .withBatchSize(options.getBatchSize())
            .withRetries(options.getMaxRetries(), 200)
            .withCopy(writeMethod(options).equals("copy"));
    JdbcUpsert upsert = staging == null ? toTable : toTable.writingTo(staging);
    EventTimeFromField eventTime =
        options.getEventTimeField() == null
            ? null
            : EventTimeFromField.of(schema, options.getEventTimeField());
    checkTable(connection, options.getTable(), schema, keys);

    if (!bounded) {
      options.as(StreamingOptions.class).setStreaming(true);
    }
    KafkaSource source =
        KafkaSource.of(options.getBootstrapServers(), options.getTopic(), NAME)
            .withConsumerGroup(options.getConsumerGroup())
            .withProperties(KafkaClientProperties.fromFile(options.getKafkaProperties()))
            .bounded(bounded)
            .stoppingAt(stopReadTime(options))
            .withChunkRecords(options.getReadChunkRecords())
            .withProgressOf(runId);
    // A bounded run's dead-letter file is named after where its read starts: a rerun after a
    // failure replaces the failed run's, a later run never overwrites an earlier one's.
    DeadLetterSink deadLetterSink =
        DeadLetterSinks.from(options).forRun(bounded ? source.startTag() : null);

    DeadLetterRouting.Collector deadLetters =
        DeadLetterRouting.register(pipeline, Accounting.of(NAME), deadLetterSink.writer());
    PCollection<SourceRecord> raw = pipeline.apply("ReadKafka", source);
    Result<KV<SourceRecord, GenericRecord>> parsed =
        raw.apply(
            "Parse",
            ParseRecords.of(schema, format)
                .forPipeline(NAME)
                .withWriterVersion(options.getWriterSchemaVersion()));
    deadLetters.add(parsed.deadLetters());
    PCollection<KV<SourceRecord, GenericRecord>> records = parsed.output();
    if (rules != null) {
      records = rules.apply(records, deadLetters, !bounded);
    }
    if (eventTime != null) {
      records = records.apply("EventTime", eventTime);
    }
    // No grouping before the sink: each batch keeps the newest version of its keys, and the
    // version guard orders keys across batches. Rows reach the table as they are read, in bounded
    // and streaming runs alike, and everything read before a checkpoint is written by then.
    Result<Long> written = records.apply("Upsert", upsert);
    deadLetters.add(written.deadLetters());
    deadLetters.close();

    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put("table", options.getTable());
    outputs.put("dead letters", deadLetterSink.location());
    // A bounded run commits its consumer group's offsets only once everything it read is written
    // (and published, when staged): a run that fails reads the same records again.
    boolean commit = bounded && options.getConsumerGroup() != null;
    if (staging == null) {
      RunPlan.OnSuccess commitOffsets = commit ? summary -> source.commitPlanned() : null;
      return new RunPlan(bounded, outputs, options.getRunReport(), commitOffsets)
          .withQuality(rules);
    }
    StagingTable stage = StagingTable.create(connection, toTable, options.getTable(), staging);
    outputs.put("staged in", staging);
    RunPlan.OnSuccess publish =
        summary -> {
          stage.mergeAndDrop();
          if (commit) {
            source.commitPlanned();
          }
        };
    return new RunPlan(bounded, outputs, options.getRunReport(), publish)
        .withQuality(rules)
        .withCleanup(stage::drop);
  }

  private static String writeMethod(KafkaToJdbcOptions options) {
    String method = options.getWriteMethod();
    if (!method.equals("copy") && !method.equals("insert")) {
      throw new IllegalArgumentException(
          "--writeMethod must be copy or insert, but was '" + method + "'");
    }
    return method;
  }

  private static Long stopReadTime(KafkaToJdbcOptions options) {
    if (options.getStopReadTime() == null) {
      return null;
    }
    if (!options.getBounded()) {
      throw new IllegalArgumentException("--stopReadTime needs --bounded");
    }
    try {
      return java.time.OffsetDateTime.parse(options.getStopReadTime()).toInstant().toEpochMilli();
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(
          "--stopReadTime must be an ISO-8601 time with offset, e.g. 2026-11-25T00:00:00Z, but was '"
              + options.getStopReadTime()
              + "'");
    }
  }

  /** The table must exist and fit the schema before anything is read. */
  private static void checkTable(
      JdbcConnection connection, String table, Schema schema, List<String> keys) {
    try (Connection c = connection.openDirect()) {
      TableCheck.verify(c, table, schema, keys);
    } catch (SQLException e) {
      throw new IllegalArgumentException(
          "Cannot check table " + table + " on " + connection.safeUrl() + ": " + e.getMessage(), e);
    }
  }
}

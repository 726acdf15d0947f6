package dev.sluice.transforms.rules;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.avro.LogicalTypes;
import org.apache.avro.generic.GenericRecord;

/**
 * {@code freshness}: the newest value of the timestamp {@code field} is at most {@code
 * maxLagMillis} behind the run.
 */
public record Freshness(String name, RecordRule.Severity severity, String field, long maxLagMillis)
    implements DatasetRule {
  /** Reads {@code {rule: freshness, field: updated_at, max_lag: PT24H}}. */
  public static final class Kind implements DatasetRuleKind {
    @Override
    public String name() {
      return "freshness";
    }

    @Override
    public Set<String> keys() {
      return Set.of("field", "max_lag");
    }

    @Override
    public DatasetRule parse(RuleSpec spec, RecordRule.Severity severity) {
      String field = spec.field("field");
      if (!(spec.typeOf(field).getLogicalType() instanceof LogicalTypes.TimestampMillis)) {
        throw spec.error(
            "field", "freshness needs a timestamp-millis field, but " + field + " is not");
      }
      String lag = spec.required("max_lag");
      try {
        return new Freshness(spec.name(field), severity, field, Duration.parse(lag).toMillis());
      } catch (DateTimeParseException e) {
        throw spec.error(
            "max_lag", "max_lag must be an ISO-8601 duration such as PT2H, but was '" + lag + "'");
      }
    }
  }

  /** Distribution of the field's values (epoch millis), whose max is the newest. */
  static String newestDistribution(String field) {
    return "quality.newest." + field;
  }

  @Override
  public List<String> fields() {
    return List.of(field);
  }

  @Override
  public String kind() {
    return "freshness";
  }

  @Override
  public void measure(GenericRecord record, Measures measures) {
    if (record.get(field) != null) {
      measures.update(newestDistribution(field), ((Number) record.get(field)).longValue());
    }
  }

  @Override
  public Verdict judge(Figures figures) {
    Long newest = figures.max(newestDistribution(field));
    long lag = newest == null ? Long.MAX_VALUE : figures.now().toEpochMilli() - newest;
    boolean ok = newest != null && lag <= maxLagMillis;
    return new Verdict(
        name,
        severity,
        figures.rows(),
        ok ? 0 : 1,
        newest == null
            ? "no value"
            : "newest " + Instant.ofEpochMilli(newest) + ", lag " + Duration.ofMillis(lag),
        "lag <= " + Duration.ofMillis(maxLagMillis),
        ok,
        List.of());
  }

  @Override
  public void measureWindow(GenericRecord record, BiConsumer<String, Long> out) {
    if (record.get(field) != null) {
      out.accept("newest|" + record.get(field), 1L);
    }
  }

  @Override
  public Observed judgeWindow(long rows, Map<String, Long> measures, long now) {
    Long newest = null;
    for (String key : measures.keySet()) {
      long value = Long.parseLong(key.substring("newest|".length()));
      newest = newest == null ? value : Math.max(newest, value);
    }
    long lag = newest == null ? -1 : now - newest;
    return new Observed(lag, newest != null && lag <= maxLagMillis);
  }
}

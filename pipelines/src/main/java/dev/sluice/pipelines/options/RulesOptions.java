package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/** Data-quality rules applied to each record after parsing. */
public interface RulesOptions extends SluiceOptions {
  @Description(
      "YAML rules file of the dataset (record_rules: not_null, range, regex, accepted_values,"
          + " max_length, compare; severity error or warn), checked at startup")
  String getRules();

  void setRules(String value);

  @Description(
      "Streaming: how often the dataset rules are judged, each time over the records of that"
          + " processing-time window (ISO-8601); reported as metrics quality.window.<rule>.*")
  @Default.String("PT1M")
  @OptionPattern("^P(T?[0-9.]+[A-Z])+$")
  String getQualityWindow();

  void setQualityWindow(String value);
}

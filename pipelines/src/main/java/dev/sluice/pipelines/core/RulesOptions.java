package dev.sluice.pipelines.core;

import org.apache.beam.sdk.options.Description;

/** Data-quality rules applied to each record after parsing. */
public interface RulesOptions extends SluiceOptions {
  @Description(
      "YAML rules file of the dataset (record_rules: not_null, range, regex, accepted_values,"
          + " max_length, compare; severity error or warn), checked at startup")
  String getRules();

  void setRules(String value);
}

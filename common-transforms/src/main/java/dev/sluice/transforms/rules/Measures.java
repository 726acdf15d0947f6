package dev.sluice.transforms.rules;

/**
 * Where a dataset rule counts what one record shows, in a bounded run. A counter or distribution
 * that several rules share (null_rate and null_rate_change on one field) is recorded once per
 * record.
 */
public interface Measures {
  /** Adds one to the counter {@code name}, once per record. */
  void count(String name);

  /** Records {@code value} in the distribution {@code name}, once per record. */
  void update(String name, long value);
}

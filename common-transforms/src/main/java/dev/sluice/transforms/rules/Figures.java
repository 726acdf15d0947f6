package dev.sluice.transforms.rules;

import java.time.Instant;
import java.util.List;
import javax.annotation.Nullable;

/**
 * What a bounded run measured, as its dataset rules read it to judge: the run's metrics under the
 * pipeline's namespace, the time of judgement and the earlier runs.
 */
public interface Figures {
  /** A counter's value (0 when it was never incremented). */
  long counter(String name);

  /** A distribution's max, or null when nothing was recorded. */
  @Nullable
  Long max(String distribution);

  /** A string set's values (samples). */
  List<String> samples(String stringSet);

  /** When the run is judged. */
  Instant now();

  /** The pipeline's earlier runs, oldest first; null when there are none to compare (a replay). */
  @Nullable
  List<? extends Run> history();

  /** The records the dataset rules judged (those that passed the record rules). */
  default long rows() {
    return counter(DatasetRule.ROWS);
  }

  /** One earlier run, as the change rules compare with it. */
  interface Run {
    /** A counter of that run. */
    long count(String counter);

    /** Whether it can be a baseline: it succeeded with its gate open. */
    boolean baseline();
  }
}

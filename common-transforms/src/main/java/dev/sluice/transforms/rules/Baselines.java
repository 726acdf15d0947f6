package dev.sluice.transforms.rules;

import java.util.List;
import javax.annotation.Nullable;

/** The earlier runs a change rule compares with, and what it says before there are enough. */
final class Baselines {
  private Baselines() {}

  /** The last {@code overLast} baseline runs, or null when fewer than the rule needs. */
  static @Nullable List<? extends Figures.Run> last(Figures figures, int overLast) {
    List<? extends Figures.Run> history = figures.history();
    if (history == null) {
      return null;
    }
    List<? extends Figures.Run> usable = history.stream().filter(Figures.Run::baseline).toList();
    List<? extends Figures.Run> last =
        usable.subList(Math.max(0, usable.size() - overLast), usable.size());
    return last.size() < Math.min(DatasetRule.MIN_HISTORY, overLast) ? null : last;
  }

  /** A change rule's verdict before enough history exists: it passes, saying why. */
  static Verdict notJudged(
      DatasetRule rule,
      Figures figures,
      long evaluated,
      long failed,
      String observed,
      int overLast) {
    List<? extends Figures.Run> history = figures.history();
    String why;
    if (history == null) {
      why = "not judged (a replay, or no history)";
    } else {
      long usable = history.stream().filter(Figures.Run::baseline).count();
      why =
          "not judged yet: "
              + usable
              + " earlier successful run(s) in the history, "
              + Math.min(DatasetRule.MIN_HISTORY, overLast)
              + " needed";
    }
    return new Verdict(
        rule.name(),
        rule.severity(),
        evaluated,
        failed,
        observed + ", " + why,
        "history",
        true,
        List.of());
  }

  /** {@code over_last}: how many earlier runs a change rule compares with (default 7). */
  static int overLast(RuleSpec spec) {
    return spec.whole("over_last", 1, 1000, 7);
  }
}

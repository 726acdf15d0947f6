package dev.sluice.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.options.SluiceOptions;
import org.apache.beam.runners.direct.DirectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DirectDefaultsTest {
  private final String saved = System.getProperty(PipelineLaunch.DIRECT_ENFORCEMENT);

  @AfterEach
  void restore() {
    if (saved == null) {
      System.clearProperty(PipelineLaunch.DIRECT_ENFORCEMENT);
    } else {
      System.setProperty(PipelineLaunch.DIRECT_ENFORCEMENT, saved);
    }
  }

  private static DirectOptions parse(String... extra) {
    String[] args = new String[3 + extra.length];
    args[0] = "--input=/in/*.csv";
    args[1] = "--output=/lake";
    args[2] = "--deadLetter=file:/dlq";
    System.arraycopy(extra, 0, args, 3, extra.length);
    SluiceOptions options =
        PipelineLaunch.parse(PipelineCatalog.byName("files-to-lake").orElseThrow(), args);
    return options.as(DirectOptions.class);
  }

  @Test
  void launchedDirectRunsSkipTheChecksUnlessAskedFor() {
    System.clearProperty(PipelineLaunch.DIRECT_ENFORCEMENT);
    assertThat(parse().isEnforceImmutability(), is(false));
    assertThat(parse().isEnforceEncodability(), is(false));
    assertThat(parse("--enforceImmutability=true").isEnforceImmutability(), is(true));
    assertThat(parse("--enforceEncodability=true").isEnforceEncodability(), is(true));
  }

  @Test
  void theTestSuitesKeepTheChecks() {
    System.setProperty(PipelineLaunch.DIRECT_ENFORCEMENT, "true");
    assertThat(parse().isEnforceImmutability(), is(true));
    assertThat(parse().isEnforceEncodability(), is(true));
  }
}

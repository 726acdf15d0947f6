package dev.sluice.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.sluice.pipelines.plan.SluicePipeline;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

class PipelineCatalogTest {
  @Test
  void namesAreUniqueAndEveryOptionIsDescribed() {
    Set<String> names = new HashSet<>();
    for (SluicePipeline<?, ?> pipeline : PipelineCatalog.all()) {
      assertThat(pipeline.name(), names.add(pipeline.name()), is(true));
      assertThat(OptionsDoc.of(pipeline.optionsClass()), is(not(empty())));
      for (OptionsDoc.Option option : OptionsDoc.of(pipeline.optionsClass())) {
        assertThat(
            pipeline.name() + " --" + option.name(), option.description().isBlank(), is(false));
      }
    }
  }

  /**
   * Beam option names are global: two pipelines declaring one name with contradictory defaults
   * break whichever runs second in a JVM (the launcher, tests, a template generator).
   */
  @Test
  void optionsOfAllPipelinesCombineInOneProxy() {
    List<Class<? extends PipelineOptions>> all = new ArrayList<>();
    PipelineCatalog.all().forEach(p -> all.add(p.optionsClass()));
    for (Class<? extends PipelineOptions> first : all) {
      PipelineOptions options = PipelineOptionsFactory.as(first);
      for (Class<? extends PipelineOptions> other : all) {
        options = options.as(other);
      }
      assertThat(options.as(first), is(not((Object) null)));
    }
  }
}

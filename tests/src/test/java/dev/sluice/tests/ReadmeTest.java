package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.plan.SluicePipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Keeps the README true: every pipeline toured there, with its page documenting every option. */
class ReadmeTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @Test
  void readmeToursEveryPipelineWithAnExampleAndItsPage() throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    for (SluicePipeline<?, ?> pipeline : PipelineCatalog.all()) {
      assertThat(readme, containsString("### " + pipeline.name()));
      String section = readme.substring(readme.indexOf("### " + pipeline.name()));
      assertThat(section, containsString("exec.args=\"" + pipeline.name() + " "));
      assertThat(section, containsString("(docs/pipelines/" + pipeline.name() + ".md)"));
      // Its page documents every option (DocsTest keeps the table generated).
      String page = Files.readString(ROOT.resolve("docs/pipelines/" + pipeline.name() + ".md"));
      for (OptionsDoc.Option option : OptionsDoc.of(pipeline.optionsClass())) {
        assertThat(pipeline.name() + " option", page, containsString("`--" + option.name() + "`"));
      }
    }
  }

  @Test
  void ciRunsTheReadmeTestCommand() throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    String ci = Files.readString(ROOT.resolve(".ci/run"));
    assertThat(readme, containsString("mvn -B verify"));
    assertThat(ci, containsString("mvn -B verify"));
  }
}

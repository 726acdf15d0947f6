package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

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

  /**
   * The README's transform examples are valid queries over orders: each is planned as a run would
   * plan it (the enrichment with a rates lookup of currency and rate).
   */
  @Test
  void readmeTransformExamplesPlanOverOrders() throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    String section =
        readme.substring(
            readme.indexOf("## Transform"),
            readme.indexOf("\n## ", readme.indexOf("## Transform") + 1));
    java.util.regex.Matcher sql =
        java.util.regex.Pattern.compile("```sql\n(.*?)```", java.util.regex.Pattern.DOTALL)
            .matcher(section);
    org.apache.beam.sdk.schemas.Schema rates =
        org.apache.beam.sdk.schemas.Schema.builder()
            .addStringField("currency")
            .addDecimalField("rate")
            .build();
    int examples = 0;
    while (sql.find()) {
      examples++;
      dev.sluice.transforms.sql.RecordTransform transform =
          dev.sluice.transforms.sql.RecordTransform.compile(
              dev.sluice.transforms.sql.TransformSpec.ofSql(sql.group(1).strip()),
              dev.sluice.schemas.Order.getClassSchema(),
              java.util.Map.of("rates", rates),
              java.util.Map.of(),
              null);
      assertThat(sql.group(1), transform.outputSchema().getFields().size() > 1, is(true));
    }
    assertThat(examples, is(3));
  }

  @Test
  void ciRunsTheReadmeTestCommand() throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    String ci = Files.readString(ROOT.resolve(".ci/run"));
    assertThat(readme, containsString("mvn -B verify"));
    assertThat(ci, containsString("mvn -B verify"));
  }
}

package dev.sluice.tests;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.plan.SluicePipeline;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the documentation true: each pipeline's page carries the options table its options
 * interface generates (regenerate with {@code mvn -B -pl tests test -Dtest=DocsTest
 * -Dsluice.writeDocs=true}), every relative link of the README and the docs resolves, and the
 * README stays a short front page.
 */
class DocsTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final String BEGIN = "<!-- options:begin";
  private static final String END = "<!-- options:end -->";
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

  @Test
  void eachPipelinePageCarriesTheOptionsTableItsOptionsGenerate() throws Exception {
    for (SluicePipeline<?, ?> pipeline : PipelineCatalog.all()) {
      Path page = ROOT.resolve("docs/pipelines/" + pipeline.name() + ".md");
      assertThat(pipeline.name() + " has a page", Files.exists(page), is(true));
      String text = Files.readString(page, StandardCharsets.UTF_8);
      int begin = text.indexOf(BEGIN);
      int end = text.indexOf(END);
      assertThat(page + " marks its options table", begin >= 0 && end > begin, is(true));
      int from = text.indexOf('\n', begin) + 1;
      String generated = OptionsDoc.markdown(pipeline.optionsClass());
      if (Boolean.getBoolean("sluice.writeDocs")) {
        Files.writeString(
            page,
            text.substring(0, from) + generated + text.substring(end),
            StandardCharsets.UTF_8);
        continue;
      }
      assertThat(
          page
              + " is stale: regenerate it with mvn -B -pl tests test -Dtest=DocsTest"
              + " -Dsluice.writeDocs=true",
          text.substring(from, end),
          equalTo(generated));
      assertThat(
          "the README points to " + page,
          Files.readString(ROOT.resolve("README.md")),
          containsString("(docs/pipelines/" + pipeline.name() + ".md)"));
    }
  }

  @Test
  void everyRelativeLinkResolves() throws Exception {
    List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
    pages.add(ROOT.resolve("ARCHITECTURE.md"));
    try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).forEach(pages::add);
    }
    List<String> broken = new ArrayList<>();
    for (Path page : pages) {
      Matcher m = LINK.matcher(Files.readString(page, StandardCharsets.UTF_8));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*") || target.startsWith("#")) {
          continue;
        }
        String file = target.replaceFirst("#.*$", "");
        if (!Files.exists(page.getParent().resolve(file).normalize())) {
          broken.add(ROOT.relativize(page) + " -> " + target);
        }
      }
    }
    assertThat("links that resolve to nothing", broken, is(empty()));
  }

  @Test
  void theReadmeIsAShortFrontPage() throws Exception {
    long lines = Files.readAllLines(ROOT.resolve("README.md")).size();
    assertThat("README lines", lines, lessThanOrEqualTo(250L));
  }
}

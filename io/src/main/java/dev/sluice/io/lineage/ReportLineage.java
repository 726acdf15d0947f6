package dev.sluice.io.lineage;

import java.util.List;
import org.apache.beam.sdk.metrics.Lineage;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;

/**
 * Records a source or sink in Beam's {@link Lineage} metrics, for IOs that do not report it
 * themselves (Beam's local file system reports no lineage). A pass-through step: elements are not
 * changed; the lineage is reported once per bundle that sees an element.
 */
public final class ReportLineage<T> extends PTransform<PCollection<T>, PCollection<T>> {
  private final boolean source;
  private final String system;
  private final String location;

  private ReportLineage(boolean source, String system, String location) {
    this.source = source;
    this.system = system;
    this.location = location;
  }

  /** Reports {@code system:location} as a sink of the pipeline, e.g. {@code file:/data/lake}. */
  public static <T> ReportLineage<T> sink(String system, String location) {
    return new ReportLineage<>(false, system, location);
  }

  /** Reports one source or sink from inside a running DoFn. */
  public static void report(boolean source, String system, String location) {
    (source ? Lineage.getSources() : Lineage.getSinks()).add(system, List.of(location));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item(source ? "source" : "sink", system + ":" + location));
  }

  @Override
  public PCollection<T> expand(PCollection<T> input) {
    return input
        .apply(ParDo.of(new ReportFn<T>(source, system, location)))
        .setCoder(input.getCoder());
  }

  static final class ReportFn<T> extends DoFn<T, T> {
    private final boolean source;
    private final String system;
    private final String location;
    private transient boolean reported;

    ReportFn(boolean source, String system, String location) {
      this.source = source;
      this.system = system;
      this.location = location;
    }

    @StartBundle
    public void startBundle() {
      reported = false;
    }

    @ProcessElement
    public void process(@Element T element, OutputReceiver<T> out) {
      if (!reported) {
        report(source, system, location);
        reported = true;
      }
      out.output(element);
    }
  }
}

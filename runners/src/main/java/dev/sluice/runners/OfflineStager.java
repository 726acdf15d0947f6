package dev.sluice.runners;

import com.google.api.services.dataflow.model.DataflowPackage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.runners.dataflow.util.PackageUtil;
import org.apache.beam.runners.dataflow.util.Stager;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A Dataflow {@link Stager} that uploads nothing: it names each file where the job expects it under
 * {@code --stagingLocation} and writes the staged pipeline proto next to the template. The
 * DataflowRunner then translates and writes a classic template without credentials or network;
 * uploading the jars is left to whoever deploys the template.
 */
public final class OfflineStager implements Stager {
  private final String stagingLocation;
  private final Path localDir;

  private OfflineStager(String stagingLocation, Path localDir) {
    this.stagingLocation = stagingLocation.endsWith("/") ? stagingLocation : stagingLocation + "/";
    this.localDir = localDir;
  }

  /** Called by the DataflowRunner through {@code --stagerClass}. */
  public static OfflineStager fromOptions(PipelineOptions options) {
    DataflowPipelineOptions dataflow = options.as(DataflowPipelineOptions.class);
    Path template = Path.of(dataflow.getTemplateLocation());
    Path parent = template.toAbsolutePath().getParent();
    return new OfflineStager(dataflow.getStagingLocation(), parent.resolve("staged"));
  }

  @Override
  public List<DataflowPackage> stageFiles(List<PackageUtil.StagedFile> files) {
    List<DataflowPackage> packages = new ArrayList<>();
    for (PackageUtil.StagedFile file : files) {
      packages.add(
          new DataflowPackage()
              .setName(file.getDestination())
              .setLocation(stagingLocation + file.getDestination()));
    }
    return packages;
  }

  @Override
  public DataflowPackage stageToFile(byte[] bytes, String target) {
    try {
      Files.createDirectories(localDir);
      Files.write(localDir.resolve(target), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged file " + target + " to " + localDir, e);
    }
    return new DataflowPackage().setName(target).setLocation(stagingLocation + target);
  }
}

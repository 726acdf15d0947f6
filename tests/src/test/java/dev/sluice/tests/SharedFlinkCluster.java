package dev.sluice.tests;

import dev.sluice.runners.sandbox.FlinkCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real Flink 1.19 session cluster (a JobManager and two TaskManagers, each its own JVM) for the
 * whole test run, stopped when the run ends. Jobs go to it with {@link #args()}: the FlinkRunner,
 * its REST address and the bundle jar built by {@code runners/} in the package phase.
 */
public final class SharedFlinkCluster
    implements BeforeAllCallback, ExtensionContext.Store.CloseableResource {
  private static FlinkCluster cluster;

  @Override
  public synchronized void beforeAll(ExtensionContext context) throws Exception {
    if (cluster == null) {
      Path dir =
          Files.createDirectories(
              Path.of(System.getProperty("java.io.tmpdir"), "flink-" + UUID.randomUUID()));
      cluster = FlinkCluster.start(dir, 2, 2);
      context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL).put("sluice-flink", this);
    }
  }

  @Override
  public void close() {
    cluster.close();
  }

  static FlinkCluster get() {
    return cluster;
  }

  /** The bundle jar; built by {@code mvn package} (part of {@code mvn verify}). */
  static Path bundle() {
    Path bundle =
        Path.of(System.getProperty("sluice.bundle", "../runners/target/sluice-bundle.jar"));
    if (!Files.isRegularFile(bundle)) {
      throw new IllegalStateException(
          "The bundle "
              + bundle
              + " is missing: run the tests with mvn verify (it packages runners/)");
    }
    return bundle.toAbsolutePath().normalize();
  }

  /** Runner options that submit a job to the cluster. */
  static String[] args() {
    return new String[] {
      "--runner=FlinkRunner",
      "--flinkMaster=" + cluster.master(),
      "--filesToStage=" + bundle(),
      "--parallelism=2"
    };
  }
}

package dev.sluice.runners.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Flink 1.19 session cluster on loopback: one JobManager and {@code n} TaskManagers, each a
 * JVM of its own started from plain Flink jars (the {@code sluice-flink-cluster} module's
 * classpath), configured as Flink's own scripts would. Jobs are submitted with {@code
 * --runner=FlinkRunner --flinkMaster=}{@link #master()} and the bundle jar in {@code
 * --filesToStage}. Stopped by {@link #close()}.
 */
public final class FlinkCluster implements AutoCloseable {
  static final String CLASSPATH_RESOURCE = "/dev/sluice/runners/sandbox/flink-cluster.classpath";
  private static final Duration STARTUP = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Java 17 opens Flink needs (the {@code env.java.opts.all} of its distribution). */
  private static final List<String> JAVA_OPTS =
      List.of(
          "-XX:+IgnoreUnrecognizedVMOptions",
          "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.net=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.text=ALL-UNNAMED",
          "--add-opens=java.base/java.time=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

  private final List<Process> processes;
  private final List<Integer> taskManagerPorts = new ArrayList<>();
  private static final String PROMETHEUS_PORT = "metrics.reporter.prom.port";
  private final List<Integer> prometheusPorts = new ArrayList<>();
  private final int restPort;
  private final Path dir;
  private final HttpClient http = HttpClient.newHttpClient();

  private FlinkCluster(List<Process> processes, int restPort, Path dir) {
    this.processes = processes;
    this.restPort = restPort;
    this.dir = dir;
  }

  /**
   * Starts a JobManager and {@code taskManagers} TaskManagers with {@code slots} slots each. A
   * cluster whose process exits while it starts (a port taken between choosing and binding it) is
   * started once more, on other ports, in a directory of its own; the first one's logs stay.
   */
  public static FlinkCluster start(Path workDir, int taskManagers, int slots)
      throws IOException, InterruptedException {
    try {
      return start(workDir, "flink", taskManagers, slots);
    } catch (ProcessExited first) {
      try {
        return start(workDir, "flink-again", taskManagers, slots);
      } catch (ProcessExited again) {
        again.addSuppressed(first);
        throw again;
      }
    }
  }

  /** A cluster process exited while the cluster started. */
  private static final class ProcessExited extends IOException {
    ProcessExited(String message) {
      super(message);
    }
  }

  private static FlinkCluster start(Path workDir, String name, int taskManagers, int slots)
      throws IOException, InterruptedException {
    Path dir = Files.createDirectories(workDir.resolve(name));
    Path conf = Files.createDirectories(dir.resolve("conf"));
    int restPort = Ports.free();
    int rpcPort = Ports.free();
    int blobPort = Ports.free();
    int tmRpcLow = Ports.free();
    List<Integer> prometheusPorts = new ArrayList<>();
    for (int i = 0; i <= taskManagers; i++) {
      prometheusPorts.add(Ports.free());
    }
    Files.writeString(
        conf.resolve("flink-conf.yaml"), config(dir, restPort, rpcPort, blobPort, tmRpcLow, slots));
    Files.writeString(
        conf.resolve("log4j.properties"),
        String.join(
            "\n",
            "log4j.rootLogger=INFO, stdout",
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.stdout.layout.ConversionPattern=%d %p %c{1} - %m%n",
            "log4j.logger.org.apache.flink.runtime.checkpoint=WARN",
            "log4j.logger.org.apache.kafka=WARN",
            ""));
    String classpath = classpath();
    List<Process> processes = new ArrayList<>();
    FlinkCluster cluster = new FlinkCluster(processes, restPort, dir);
    cluster.prometheusPorts.addAll(prometheusPorts);
    try {
      processes.add(
          start(
              classpath,
              conf,
              "GET_JM_RESOURCE_PARAMS",
              "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
              dir.resolve("jobmanager.log"),
              "-D" + PROMETHEUS_PORT + "=" + prometheusPorts.get(0)));
      cluster.classpath = classpath;
      cluster.conf = conf;
      for (int i = 0; i < taskManagers; i++) {
        cluster.taskManagerPorts.add(tmRpcLow + i);
        processes.add(cluster.startTaskManager(i));
      }
      cluster.awaitTaskManagers(taskManagers);
    } catch (IOException | RuntimeException | InterruptedException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  private static String config(
      Path dir, int restPort, int rpcPort, int blobPort, int tmRpcLow, int slots) {
    return String.join(
        "\n",
        "jobmanager.rpc.address: localhost",
        "jobmanager.bind-host: localhost",
        "jobmanager.rpc.port: " + rpcPort,
        "taskmanager.host: localhost",
        "taskmanager.bind-host: localhost",
        "taskmanager.rpc.port: " + tmRpcLow + "-" + (tmRpcLow + 20),
        "taskmanager.data.port: 0",
        "rest.address: localhost",
        "rest.bind-address: localhost",
        "rest.port: " + restPort,
        "blob.server.port: " + blobPort,
        "taskmanager.numberOfTaskSlots: " + slots,
        // A job's subtasks spread over the TaskManagers, as on a real cluster.
        "cluster.evenly-spread-out-slots: true",
        "parallelism.default: 1",
        "jobmanager.memory.process.size: 768m",
        // Each job's classes come with its own class loader (the bundle is large), and JDBC drivers
        // keep a finished job's loader alive, with its static state: room in metaspace and heap for
        // a test suite's jobs (the task heap is what is left after metaspace, network, managed
        // memory, the framework's share and the JVM overhead: about 0.8 GB here).
        "taskmanager.memory.process.size: 2560m",
        "taskmanager.memory.jvm-metaspace.size: 768m",
        "taskmanager.memory.managed.fraction: 0.2",
        "taskmanager.memory.network.min: 128m",
        "taskmanager.memory.network.max: 128m",
        "taskmanager.network.sort-shuffle.min-buffers: 128",
        "io.tmp.dirs: " + dir.resolve("tmp"),
        "web.tmpdir: " + dir.resolve("web"),
        "state.checkpoints.dir: " + dir.resolve("checkpoints").toUri(),
        // Metrics as a production cluster exposes them: Flink's Prometheus reporter on each
        // process (its port given per process), Beam's metrics among them; the REST API's view of
        // them refreshed every second.
        "metrics.reporter.prom.factory.class:"
            + " org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
        "metrics.fetcher.update-interval: 1000",
        "env.java.opts.all: " + String.join(" ", JAVA_OPTS),
        "");
  }

  /** One Flink process, with the memory flags Flink computes for it (as its scripts do). */
  private static Process start(
      String classpath,
      Path conf,
      String resourceCommand,
      String mainClass,
      Path log,
      String... properties)
      throws IOException, InterruptedException {
    List<String> resources =
        run(
            classpath,
            conf,
            "org.apache.flink.runtime.util.bash.BashJavaUtils",
            resourceCommand,
            "--configDir",
            conf.toString());
    // The last two lines are the JVM flags and the dynamic -D properties.
    String jvmFlags =
        resources.get(resources.size() - 2).replaceFirst("^BASH_JAVA_UTILS_EXEC_RESULT:", "");
    String dynamic =
        resources.get(resources.size() - 1).replaceFirst("^BASH_JAVA_UTILS_EXEC_RESULT:", "");
    List<String> command = java(classpath, conf);
    command.addAll(1, Arrays.asList(jvmFlags.trim().split("\\s+")));
    command.add(mainClass);
    command.add("--configDir");
    command.add(conf.toString());
    if (!dynamic.isBlank()) {
      command.addAll(Arrays.asList(dynamic.trim().split("\\s+")));
    }
    command.addAll(Arrays.asList(properties));
    return new ProcessBuilder(command)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectErrorStream(true)
        .start();
  }

  private static List<String> java(String classpath, Path conf) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JAVA_OPTS);
    command.add("-Dlog4j.configuration=" + conf.resolve("log4j.properties").toUri());
    command.add("-cp");
    command.add(classpath);
    return command;
  }

  private static List<String> run(String classpath, Path conf, String... mainAndArgs)
      throws IOException, InterruptedException {
    List<String> command = java(classpath, conf);
    command.addAll(Arrays.asList(mainAndArgs));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("Flink " + mainAndArgs[0] + " failed:\n" + output);
    }
    return output.lines().filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")).toList();
  }

  static String classpath() throws IOException {
    return LocalFiles.classpathResource(CLASSPATH_RESOURCE, "runners/flink-cluster");
  }

  private void awaitTaskManagers(int expected) throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(STARTUP);
    while (Instant.now().isBefore(deadline)) {
      for (Process process : processes) {
        if (!process.isAlive()) {
          throw new ProcessExited(
              "A Flink process exited with code " + process.exitValue() + "; logs in " + dir);
        }
      }
      try {
        // While the JobManager starts, the endpoint may answer with errors and no list.
        if (get("/taskmanagers").path("taskmanagers").size() >= expected) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(500);
    }
    throw new IOException(
        "Flink cluster did not report "
            + expected
            + " TaskManagers in "
            + STARTUP.toSeconds()
            + " s; logs in "
            + dir);
  }

  private String classpath;
  private Path conf;

  /** TaskManager {@code i}, on a port of its own: its id ("localhost:<port>-...") says which. */
  private Process startTaskManager(int i) throws IOException, InterruptedException {
    return start(
        classpath,
        conf,
        "GET_TM_RESOURCE_PARAMS",
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
        dir.resolve("taskmanager-" + i + ".log"),
        "-Dtaskmanager.rpc.port=" + taskManagerPorts.get(i),
        "-D" + PROMETHEUS_PORT + "=" + prometheusPorts.get(i + 1));
  }

  /**
   * Starts again the TaskManagers a fault test killed, and waits until the JobManager counts them
   * all: the cluster is whole for the next test.
   */
  public void restartTaskManagers() throws IOException, InterruptedException {
    for (int i = 0; i < taskManagerPorts.size(); i++) {
      if (!processes.get(1 + i).isAlive()) {
        processes.set(1 + i, startTaskManager(i));
      }
    }
    awaitTaskManagers(taskManagerPorts.size());
  }

  /**
   * Kills, with SIGKILL (as a crashed machine would vanish), a TaskManager that runs tasks of the
   * job, and waits until the JobManager no longer counts it (fault tests).
   */
  public void killTaskManagerOf(String jobId) throws IOException, InterruptedException {
    int index = -1;
    for (JsonNode vertex : get("/jobs/" + jobId).get("vertices")) {
      JsonNode managers =
          get("/jobs/" + jobId + "/vertices/" + vertex.get("id").asText() + "/taskmanagers")
              .get("taskmanagers");
      for (JsonNode manager : managers) {
        String id = manager.path("taskmanager-id").asText();
        for (int i = 0; i < taskManagerPorts.size() && index < 0; i++) {
          if (id.startsWith("localhost:" + taskManagerPorts.get(i) + "-")) {
            index = i;
          }
        }
      }
    }
    if (index < 0) {
      throw new IOException("no TaskManager of this cluster runs a task of job " + jobId);
    }
    Process taskManager = processes.get(1 + index);
    int before = get("/taskmanagers").get("taskmanagers").size();
    taskManager.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    Instant deadline = Instant.now().plus(STARTUP);
    while (Instant.now().isBefore(deadline)
        && get("/taskmanagers").get("taskmanagers").size() >= before) {
      Thread.sleep(500);
    }
  }

  /**
   * The id of the checkpoint the job last restored its state from after a failure, or -1 when it
   * never restored (Flink's {@code /jobs/<id>/checkpoints}, {@code latest.restored}).
   */
  public long restoredCheckpoint(String jobId) throws IOException, InterruptedException {
    JsonNode restored = get("/jobs/" + jobId + "/checkpoints").path("latest").path("restored");
    return restored.isObject() ? restored.path("id").asLong(-1) : -1;
  }

  /**
   * The ports of Flink's Prometheus reporter, one per process (the JobManager's first, then each
   * TaskManager's): {@code http://localhost:<port>/metrics}.
   */
  public List<Integer> prometheusPorts() {
    return List.copyOf(prometheusPorts);
  }

  /** {@code localhost:<rest port>}, for {@code --flinkMaster}. */
  public String master() {
    return "localhost:" + restPort;
  }

  public Path logDir() {
    return dir;
  }

  /** The cluster's jobs: id and state (RUNNING, FINISHED, CANCELED, ...). */
  public List<String[]> jobs() throws IOException, InterruptedException {
    List<String[]> jobs = new ArrayList<>();
    for (JsonNode job : get("/jobs").get("jobs")) {
      jobs.add(new String[] {job.get("id").asText(), job.get("status").asText()});
    }
    return jobs;
  }

  /** How many checkpoints of a job have completed. */
  public long completedCheckpoints(String jobId) throws IOException, InterruptedException {
    return get("/jobs/" + jobId + "/checkpoints").get("counts").get("completed").asLong();
  }

  /** Cancels a job and waits until Flink reports it CANCELED. */
  public void cancel(String jobId) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://" + master() + "/jobs/" + jobId + "?mode=cancel"))
            .method("PATCH", HttpRequest.BodyPublishers.noBody())
            .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) {
      throw new IOException("Cancel of " + jobId + " refused: " + response.body());
    }
    Instant deadline = Instant.now().plusSeconds(60);
    while (Instant.now().isBefore(deadline)) {
      String state = get("/jobs/" + jobId).get("state").asText();
      if (state.equals("CANCELED")) {
        return;
      }
      Thread.sleep(250);
    }
    throw new IOException("Job " + jobId + " not CANCELED after 60 s");
  }

  private JsonNode get(String path) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://" + master() + path))
            .timeout(Duration.ofSeconds(5))
            .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET " + path + ": HTTP " + response.statusCode());
    }
    return JSON.readTree(response.body());
  }

  @Override
  public void close() {
    for (Process process : new ArrayList<>(processes)) {
      process.destroy();
    }
    for (Process process : processes) {
      LocalFiles.awaitExit(process);
    }
  }
}

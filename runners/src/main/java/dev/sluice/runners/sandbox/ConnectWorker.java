package dev.sluice.runners.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Kafka Connect standalone worker running one connector, in a JVM of its own with the classpath a
 * sandbox module resolved (Connect and Debezium bring their own Kafka and Jackson). Records are
 * converted with Connect's {@code JsonConverter}, with or without the {@code schema}/{@code
 * payload} wrapper. Stopped by {@link #close()}.
 */
public final class ConnectWorker implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final Path log;
  private final int restPort;
  private final String name;

  private ConnectWorker(Process process, Path log, int restPort, String name) {
    this.process = process;
    this.log = log;
    this.restPort = restPort;
    this.name = name;
  }

  /**
   * Starts a worker in {@code work} (its properties, offsets and log) running {@code connector}
   * (Connect properties; {@code name} among them).
   *
   * @param schemas whether the JSON converter wraps each key and value as {@code {schema, payload}}
   */
  public static ConnectWorker start(
      String classpath,
      Path work,
      String bootstrapServers,
      boolean schemas,
      Map<String, String> connector,
      String maxHeap)
      throws IOException {
    Files.createDirectories(work);
    int restPort = Ports.free();
    Path worker = work.resolve("worker.properties");
    Files.writeString(
        worker,
        String.join(
            "\n",
            "bootstrap.servers=" + bootstrapServers,
            "key.converter=org.apache.kafka.connect.json.JsonConverter",
            "value.converter=org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable=" + schemas,
            "value.converter.schemas.enable=" + schemas,
            "offset.storage.file.filename=" + work.resolve("connect.offsets"),
            "offset.flush.interval.ms=1000",
            "listeners=http://127.0.0.1:" + restPort,
            "plugin.discovery=only_scan",
            ""));
    Path connectorFile = work.resolve("connector.properties");
    List<String> lines = new ArrayList<>();
    connector.forEach((key, value) -> lines.add(key + "=" + value));
    lines.add("");
    Files.write(connectorFile, lines);
    Path log4j = LocalFiles.warningsOnlyLog4j(work.resolve("log4j.properties"));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + maxHeap);
    command.add("-Dlog4j.configuration=" + log4j.toUri());
    command.add("-cp");
    command.add(classpath);
    command.add("org.apache.kafka.connect.cli.ConnectStandalone");
    command.add(worker.toString());
    command.add(connectorFile.toString());
    Path log = work.resolve("connect.log");
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new ConnectWorker(process, log, restPort, connector.get("name"));
  }

  public Process process() {
    return process;
  }

  public Path log() {
    return log;
  }

  /**
   * Waits until the connector and each of its tasks are {@code RUNNING} (Connect's REST API),
   * failing with the worker's log when one fails or the worker exits.
   */
  public void awaitRunning(Duration timeout) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    Instant deadline = Instant.now().plus(timeout);
    String last = "no answer";
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IOException(
            "The Connect worker exited (" + process.exitValue() + "):\n" + tail());
      }
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + restPort + "/connectors/" + name + "/status"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        last = response.body();
        if (response.statusCode() == 200) {
          JsonNode status = JSON.readTree(last);
          boolean running = status.path("connector").path("state").asText().equals("RUNNING");
          boolean tasks = status.path("tasks").size() > 0;
          for (JsonNode task : status.path("tasks")) {
            if (task.path("state").asText().equals("FAILED")) {
              throw new IOException(
                  "Connector " + name + " failed: " + task.path("trace").asText() + "\n" + tail());
            }
            tasks &= task.path("state").asText().equals("RUNNING");
          }
          if (running && tasks) {
            return;
          }
        }
      } catch (ConnectException e) {
        last = "worker not listening yet";
      }
      Thread.sleep(250);
    }
    throw new IOException(
        "Connector " + name + " not running after " + timeout + " (" + last + "):\n" + tail());
  }

  private String tail() throws IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  @Override
  public void close() {
    process.destroy();
    LocalFiles.awaitExit(process);
  }
}

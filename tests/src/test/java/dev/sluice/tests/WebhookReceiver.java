package dev.sluice.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An Alertmanager stand-in for tests, as a JUnit extension ({@code @RegisterExtension}): before
 * each test it takes what is POSTed to {@code /api/v2/alerts} (JSON, kept in order) on a free
 * loopback port, answering 200; after it, it stops.
 */
final class WebhookReceiver implements BeforeEachCallback, AfterEachCallback, AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private HttpServer server;
  private final List<JsonNode> received = new CopyOnWriteArrayList<>();

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    received.clear();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/api/v2/alerts",
        exchange -> {
          received.add(JSON.readTree(exchange.getRequestBody()));
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    server.start();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  /** What was received so far, each POST's JSON body. */
  List<JsonNode> received() {
    return received;
  }

  /** The URL to give as {@code --alertWebhook} (kept after a stop: a webhook that is down). */
  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/api/v2/alerts";
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

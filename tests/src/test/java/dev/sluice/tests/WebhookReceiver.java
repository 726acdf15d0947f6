package dev.sluice.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An Alertmanager stand-in for tests: takes what is POSTed to {@code /api/v2/alerts} (JSON, kept in
 * order) on a free loopback port, and answers 200.
 */
final class WebhookReceiver implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;
  private final List<JsonNode> received = new CopyOnWriteArrayList<>();

  private WebhookReceiver(HttpServer server) {
    this.server = server;
  }

  static WebhookReceiver start() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    WebhookReceiver receiver = new WebhookReceiver(server);
    server.createContext(
        "/api/v2/alerts",
        exchange -> {
          receiver.received.add(JSON.readTree(exchange.getRequestBody()));
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    server.start();
    return receiver;
  }

  /** What was received so far, each POST's JSON body. */
  List<JsonNode> received() {
    return received;
  }

  /** The URL to give as {@code --alertWebhook}. */
  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/api/v2/alerts";
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

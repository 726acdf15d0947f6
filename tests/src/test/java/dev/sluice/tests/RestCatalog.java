package dev.sluice.tests;

import java.lang.reflect.Constructor;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A real Iceberg REST catalog for tests: Iceberg's reference server ({@code RESTCatalogServer} of
 * iceberg-open-api's test fixtures, the server of the REST catalog compatibility kit) on Jetty,
 * backed by a JDBC catalog in a SQLite file, its tables under {@code warehouse}.
 */
final class RestCatalog implements AutoCloseable {
  private final Object server;
  private final int port;

  private RestCatalog(Object server, int port) {
    this.server = server;
    this.port = port;
  }

  /** A server started on a free port. */
  static RestCatalog start(Path dir) throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Map<String, String> config = new HashMap<>();
    config.put("rest.port", String.valueOf(port));
    config.put("uri", "jdbc:sqlite:" + dir.resolve("rest-backend.db"));
    config.put("warehouse", dir.resolve("rest-warehouse").toString());
    Class<?> type = Class.forName("org.apache.iceberg.rest.RESTCatalogServer");
    // Its configurable constructor is package-private: the kit's own tests call it.
    Constructor<?> constructor = type.getDeclaredConstructor(Map.class);
    constructor.setAccessible(true);
    Object server = constructor.newInstance(config);
    type.getMethod("start", boolean.class).invoke(server, false);
    return new RestCatalog(server, port);
  }

  /** The catalog as {@code --catalog} names it. */
  String uri() {
    return "rest:http://127.0.0.1:" + port;
  }

  @Override
  public void close() throws Exception {
    server.getClass().getMethod("stop").invoke(server);
  }
}

package dev.sluice.tests;

import java.nio.charset.StandardCharsets;

/** Order events for tests, as the JSON a producer would send. */
final class Orders {
  private Orders() {}

  static byte[] json(long id, long version, String amount, String status) {
    return json(id, version, amount, "EUR", status);
  }

  static byte[] json(long id, long version, String amount, String currency, String status) {
    return ("{\"order_id\":"
            + id
            + ",\"customer_id\":"
            + (100 + id)
            + ",\"amount\":"
            + amount
            + ",\"currency\":\""
            + currency
            + "\",\"status\":\""
            + status
            + "\",\"created_at\":\"2026-11-25T10:00:00Z\",\"updated_at\":\"2026-11-25T1"
            + Math.min(version, 9)
            + ":00:00Z\",\"version\":"
            + version
            + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

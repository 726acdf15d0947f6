package dev.sluice.transforms.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A short, stable name for what a run read (an input file's path, an export's range, a topic's
 * start offsets): twelve hex digits of the SHA-256 of the parts joined by {@code |}. Output named
 * with it belongs to that input: a rerun of the same input replaces it, another input never does.
 */
public final class RunTag {
  private RunTag() {}

  public static String of(String... parts) {
    return of(List.of(parts));
  }

  public static String of(List<String> parts) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(String.join("|", parts).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

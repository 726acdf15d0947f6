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

  /**
   * Thirty-two hex digits of the SHA-256 of the parts, each followed by a zero byte: an identity of
   * exact bytes (a dead letter, a record's payload), for keys rather than names.
   */
  public static String identity(byte[]... parts) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (byte[] part : parts) {
        digest.update(part);
        digest.update((byte) 0);
      }
      return HexFormat.of().formatHex(digest.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

package dev.sluice.io.files;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Names that tie output files to the input they came from, so that a rerun of the same input
 * replaces its own files and never another input's: {@code part-<tag>-00000-of-00001.avro}, where
 * the tag is a short hash of what was read (an input file's path; an export's name and range).
 */
public final class LakeNames {
  private LakeNames() {}

  /** Twelve hex digits of the SHA-256 of the parts, joined by {@code |}. */
  public static String tag(String... parts) {
    return tag(List.of(parts));
  }

  /** Twelve hex digits of the SHA-256 of the parts, joined by {@code |}. */
  public static String tag(List<String> parts) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(String.join("|", parts).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The stem of the data files of one input: {@code part-<tag>}. */
  public static String stem(String tag) {
    return "part-" + tag;
  }

  /** The stem of an input file's records: the tag of its path, as the file system names it. */
  public static String ofInputFile(String path) {
    return stem(tag(path));
  }

  /** The stem of a record read from a file: {@link #ofInputFile} of the path in its origin. */
  public static String inputFileStem(dev.sluice.transforms.core.SourceRecord record) {
    return ofInputFile(inputPath(record.origin()));
  }

  /** The path part of a {@code file:<path>#<line>} origin. */
  public static String inputPath(String origin) {
    int hash = origin.lastIndexOf('#');
    String path = hash < 0 ? origin : origin.substring(0, hash);
    return path.startsWith("file:") ? path.substring("file:".length()) : path;
  }
}

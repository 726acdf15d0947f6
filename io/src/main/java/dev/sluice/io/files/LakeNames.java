package dev.sluice.io.files;

import dev.sluice.transforms.core.RunTag;
import dev.sluice.transforms.core.SourceRecord;
import java.util.List;

/**
 * Names that tie output files to the input they came from, so that a rerun of the same input
 * replaces its own files and never another input's: {@code part-<tag>-00000-of-00001.avro}, where
 * the tag is a short hash of what was read (an input file's path; an export's name and range).
 */
public final class LakeNames {
  private LakeNames() {}

  /** See {@link RunTag}. */
  public static String tag(String... parts) {
    return RunTag.of(parts);
  }

  /** See {@link RunTag}. */
  public static String tag(List<String> parts) {
    return RunTag.of(parts);
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
  public static String inputFileStem(SourceRecord record) {
    return ofInputFile(inputPath(record.origin()));
  }

  /** The path part of a {@code file:<path>#<line>} origin. */
  public static String inputPath(String origin) {
    int hash = origin.lastIndexOf('#');
    String path = hash < 0 ? origin : origin.substring(0, hash);
    return path.startsWith("file:") ? path.substring("file:".length()) : path;
  }
}

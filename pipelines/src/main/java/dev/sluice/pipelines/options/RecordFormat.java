package dev.sluice.pipelines.options;

import dev.sluice.transforms.parse.InputFormat;

/**
 * The value of {@code --format}: how records are encoded, as users type it (any case). One type for
 * every pipeline, because Beam options are global by name.
 */
public enum RecordFormat {
  csv(InputFormat.CSV),
  json(InputFormat.JSONL),
  jsonl(InputFormat.JSONL),
  avro(InputFormat.AVRO);

  private final InputFormat input;

  RecordFormat(InputFormat input) {
    this.input = input;
  }

  /** The parser's format. */
  public InputFormat input() {
    return input;
  }
}

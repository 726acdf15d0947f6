package dev.sluice.pipelines.core;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Where a pipeline sends the records it cannot process. */
public interface DeadLetterOptions extends SluiceOptions {
  @Description(
      "Dead-letter sink for records that fail: file:<dir> (kafka:<topic> and jdbc:<table> "
          + "are reserved for their sinks)")
  @Validation.Required
  String getDeadLetter();

  void setDeadLetter(String value);

  @Description("Serialization of dead letters: json (JSON lines) or avro")
  @Default.String("json")
  String getDeadLetterFormat();

  void setDeadLetterFormat(String value);
}

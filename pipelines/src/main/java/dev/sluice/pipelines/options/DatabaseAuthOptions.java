package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * How a pipeline authenticates to its databases (its own, and a {@code jdbc:} dead-letter table's).
 * One group, so the setting is declared once whichever database options a pipeline has.
 */
public interface DatabaseAuthOptions extends PipelineOptions {
  @Description(
      "Send a database password even when the server asks for it in cleartext (pg_hba.conf method"
          + " 'password'); refused by default")
  @Default.Boolean(false)
  Boolean getAllowCleartextPassword();

  void setAllowCleartextPassword(Boolean value);
}

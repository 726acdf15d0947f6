package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** The contract a pipeline parses its records into: a schema by name, or a schema file. */
public interface SchemaOptions extends PipelineOptions {
  @Description("Name of the Avro schema the records are parsed into, e.g. Order or Customer")
  @Default.String("Order")
  String getSchema();

  void setSchema(String value);

  @Description(
      "An Avro schema file to parse into instead of --schema's current version: a released"
          + " version, or the next one, which must keep the schema's compatibility mode (e.g. a new"
          + " enum symbol, to replay the dead letters it caused before the release)")
  String getSchemaFile();

  void setSchemaFile(String value);

  @Description(
      "The keyset that applies the contract's personal-data policies (sluice.pii: token, hash)"
          + " and seals the dead letters of a contract with personal data: file:<path> or"
          + " env:<NAME>, confined like the passwords (SLUICE_SECRET_DIRS); make one with sluice"
          + " pii-keyset. Required when the contract marks personal data")
  String getPiiKeyset();

  void setPiiKeyset(String value);
}

package dev.sluice.pipelines.options;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** A database to connect to. The password is a reference, never a literal. */
public interface JdbcOptions extends SluiceOptions, DatabaseAuthOptions {
  @Description("JDBC URL of the database, e.g. jdbc:postgresql://host:5432/db")
  @Validation.Required
  @OptionPattern("^jdbc:.+$")
  String getJdbcUrl();

  void setJdbcUrl(String value);

  @Description("Database user")
  String getJdbcUser();

  void setJdbcUser(String value);

  @Description(
      "Database password as a reference: env:NAME or file:PATH (never the password itself)")
  @OptionPattern("^(env|file):.+$")
  String getJdbcPassword();

  void setJdbcPassword(String value);
}

package dev.sluice.pipelines.core;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** A database to connect to. The password is a reference, never a literal. */
public interface JdbcOptions extends SluiceOptions {
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

  // Declared, with the same default, by JdbcOptions and DeadLetterOptions (Beam options are global
  // by name).
  @Description(
      "Send a database password even when the server asks for it in cleartext (pg_hba.conf method"
          + " 'password'); refused by default")
  @Default.Boolean(false)
  Boolean getAllowCleartextPassword();

  void setAllowCleartextPassword(Boolean value);
}

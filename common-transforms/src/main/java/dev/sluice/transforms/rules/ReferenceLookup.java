package dev.sluice.transforms.rules;

import java.io.Serializable;
import java.util.List;
import java.util.Set;

/**
 * Where a {@code relationships} rule looks its values up: a table's column, in whatever store the
 * pipeline reaches (a database for Sluice's JDBC pipelines). Serializable: it runs on workers.
 */
public interface ReferenceLookup extends Serializable {
  /** Fails, naming what is wrong, when the rule's table or column cannot be read (at startup). */
  void verify(Relationships rule) throws Exception;

  /** The values among {@code values} (as text) that the rule's column does not hold. */
  Set<String> missing(Relationships rule, List<String> values) throws Exception;
}

package dev.sluice.pipelines.kafkatojdbc;

/** The value of {@code --writeMethod}: how each batch reaches PostgreSQL. */
public enum WriteMethod {
  /** COPY into a temporary table, then one merging {@code INSERT ... SELECT ... ON CONFLICT}. */
  copy,
  /** Batched prepared upserts. */
  insert
}

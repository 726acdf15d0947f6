-- Rolls back V8: the ledger of added columns (the columns stay in their tables).
DROP TABLE IF EXISTS sluice_schema_changes;

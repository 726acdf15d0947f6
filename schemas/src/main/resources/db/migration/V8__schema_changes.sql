-- Columns that runs under --onSchemaChange=add_columns added to their tables: one row per table
-- and column, with the Avro type its values were read as and where the field was first seen.
-- The next run of the table reads these columns as part of its contract.
CREATE TABLE sluice_schema_changes (
    table_name   text        NOT NULL,
    column_name  text        NOT NULL,
    avro_type    text        NOT NULL,
    sql_type     text        NOT NULL,
    first_origin text        NOT NULL,
    pipeline     text        NOT NULL,
    run_id       text,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, column_name)
);

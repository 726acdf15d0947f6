-- Incremental exports (jdbc-to-lake): the high-watermark committed after each published run.
CREATE TABLE sluice_export_state (
    export_name      text        PRIMARY KEY,
    watermark_column text        NOT NULL,
    high_watermark   text,
    rows_exported    bigint      NOT NULL,
    committed_at     timestamptz NOT NULL DEFAULT now()
);

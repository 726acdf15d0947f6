-- Dead letters of every pipeline (--deadLetter=jdbc:sluice_dead_letters): the DeadLetter schema.
CREATE TABLE sluice_dead_letters (
    id               bigserial   PRIMARY KEY,
    pipeline         text        NOT NULL,
    step             text        NOT NULL,
    origin           text        NOT NULL,
    reason           text        NOT NULL,
    payload          bytea       NOT NULL,
    payload_preview  text        NOT NULL,
    error_class      text        NOT NULL,
    error_message    text        NOT NULL,
    stack_trace      text,
    rule             text,
    attempt          integer     NOT NULL,
    failed_at        timestamptz NOT NULL,
    schema_name      text,
    schema_version   integer,
    source_timestamp timestamptz
);
CREATE INDEX sluice_dead_letters_by_origin ON sluice_dead_letters (pipeline, origin);

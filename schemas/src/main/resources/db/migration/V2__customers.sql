-- Target table of the Customer schema (v1).
CREATE TABLE customers (
    customer_id bigint      PRIMARY KEY,
    name        text        NOT NULL,
    email       text,
    country     varchar(2)  NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint      NOT NULL
);

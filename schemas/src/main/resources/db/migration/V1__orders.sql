-- Target table of the Order schema (v1): one row per order, newest version wins.
CREATE TABLE orders (
    order_id    bigint         PRIMARY KEY,
    customer_id bigint         NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    currency    varchar(3)     NOT NULL,
    status      text           NOT NULL CHECK (status IN ('NEW', 'PAID', 'SHIPPED', 'CANCELLED')),
    created_at  timestamptz    NOT NULL,
    updated_at  timestamptz    NOT NULL,
    version     bigint         NOT NULL,
    note        text
);

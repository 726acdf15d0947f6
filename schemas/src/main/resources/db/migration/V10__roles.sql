-- Least privilege: two group roles (NOLOGIN; grant them to the login roles you create, e.g.
-- CREATE ROLE etl LOGIN PASSWORD '…' IN ROLE sluice_loader). Roles belong to the whole server, so
-- they are made once and granted in every database the migrations run in.
--   sluice_loader: reads and writes rows of the tables (targets, dead letters, ledgers) and uses
--                  their sequences; no DDL. add_columns (ALTER TABLE) and staged runs (CREATE
--                  TABLE) need more, granted separately (see docs/security.md).
--   sluice_reader: SELECT only.
-- (PostgreSQL 15 and later give PUBLIC no CREATE on schema public; on older servers, revoke it.)
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice_loader') THEN
        CREATE ROLE sluice_loader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice_reader') THEN
        CREATE ROLE sluice_reader NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO sluice_loader, sluice_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sluice_loader;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sluice_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sluice_reader;
-- Tables the migrations' owner creates later (a new target) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sluice_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sluice_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO sluice_reader;

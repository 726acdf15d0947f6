-- Rolls back V10 in this database: the grants go; the roles stay while another database uses them
-- (DROP OWNED and DROP ROLE are the server administrator's call).
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM sluice_loader, sluice_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM sluice_loader;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM sluice_loader, sluice_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM sluice_loader;
REVOKE USAGE ON SCHEMA public FROM sluice_loader, sluice_reader;

-- Rolls back V9.
ALTER TABLE sluice_dead_letters DROP COLUMN IF EXISTS payload_encryption;
ALTER TABLE customers DROP COLUMN IF EXISTS phone;

DROP INDEX IF EXISTS sluice_dead_letters_pending;
ALTER TABLE sluice_dead_letters
    DROP COLUMN IF EXISTS replay_run,
    DROP COLUMN IF EXISTS replayed_at,
    DROP COLUMN IF EXISTS payload_header;

-- Dead letters v2 and replay (sluice replay --from=jdbc:<table>): the CSV header a line is parsed
-- with, and the mark a replay leaves on each dead letter it re-fed, so that the next replay skips
-- it. A dead letter that fails again is stored anew with the next attempt; the replayed one keeps
-- its row, marked.
ALTER TABLE sluice_dead_letters
    ADD COLUMN payload_header bytea,
    ADD COLUMN replayed_at    timestamptz,
    ADD COLUMN replay_run     text;
CREATE INDEX sluice_dead_letters_pending ON sluice_dead_letters (pipeline, failed_at)
    WHERE replayed_at IS NULL;

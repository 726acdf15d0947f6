-- A rerun after a failed run meets the same bad records again: keep each dead letter once.
-- The same record failing the same step on the same attempt is one dead letter (its payload's hash
-- tells two different records with one origin apart, e.g. a file rewritten under the same name).
DELETE FROM sluice_dead_letters later
    USING sluice_dead_letters earlier
    WHERE later.id > earlier.id
      AND later.pipeline = earlier.pipeline
      AND later.step = earlier.step
      AND later.origin = earlier.origin
      AND later.attempt = earlier.attempt
      AND md5(later.payload) = md5(earlier.payload);
CREATE UNIQUE INDEX sluice_dead_letters_once
    ON sluice_dead_letters (pipeline, step, origin, attempt, md5(payload));

-- Personal data (Customer v2, DeadLetter v3): the customers table gets the hashed phone column,
-- and the dead letters say how their payload is sealed (NULL: the original bytes in clear;
-- 'tink-aes-siv': encrypted with the seal key of the run's --piiKeyset).
ALTER TABLE customers ADD COLUMN phone text;
COMMENT ON COLUMN customers.name IS 'Personal data: redacted (sluice.pii redact)';
COMMENT ON COLUMN customers.email IS 'Personal data: tokenized (sluice.pii token)';
COMMENT ON COLUMN customers.phone IS 'Personal data: keyed HMAC-SHA256 (sluice.pii hash)';
ALTER TABLE sluice_dead_letters ADD COLUMN payload_encryption text;

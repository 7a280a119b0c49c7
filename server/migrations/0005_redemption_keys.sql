-- A redemption remembers the Idempotency-Key it was made under, so that a retry after a crash finds and
-- completes it instead of spending the points again.
ALTER TABLE redemptions ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX redemptions_key ON redemptions (customer_id, idempotency_key);

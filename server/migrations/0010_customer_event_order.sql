-- Customer webhooks are ordered by their own time: `updatedAt` of the latest event applied. An event that is not
-- newer than it (a replay, or a delivery that arrived late) changes nothing, so an old e-mail cannot come back
-- and undo the self-referral check that relies on the current one.
ALTER TABLE customers ADD COLUMN shop_updated_at INTEGER;

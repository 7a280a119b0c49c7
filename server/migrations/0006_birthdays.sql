-- The birthday gift: when the shop learned the date (a date given too close to the day earns from the next
-- year), and at most one gift per shopper and birthday, whatever runs the award twice.
ALTER TABLE customers ADD COLUMN birthday_set_at INTEGER;
UPDATE customers SET birthday_set_at = created_at WHERE birthday IS NOT NULL;
CREATE UNIQUE INDEX ledger_birthday_once ON ledger (customer_id, at) WHERE source = 'birthday';

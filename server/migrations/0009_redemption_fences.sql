-- A redemption says what it is: `reserved` (points spent, the shop's coupon call not finished), `done` (it has its
-- code) or `refunded` (the shop could not make a code; the points went back). Only a reserved redemption may be
-- completed or refunded; a done one is answered again, at any age, and never touched.
ALTER TABLE redemptions ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
UPDATE redemptions SET state = 'reserved' WHERE code LIKE 'pending:%';
UPDATE redemptions SET state = 'refunded' WHERE code LIKE 'failed:%';

-- Each claim of an Idempotency-Key gets its own attempt id. A retry that takes over an abandoned claim writes a new
-- one, and every change made under the key checks it in the change's own transaction: the attempt that was taken
-- over can then neither finish nor refund the other's work.
ALTER TABLE idempotency_keys ADD COLUMN attempt TEXT NOT NULL DEFAULT '';

-- An admin's keys were scoped `admin:<customer id>`, which a shopper whose id starts with `admin:` shared. They are
-- now scoped with a line feed, which no shopper id can hold (the identity check refuses it).
UPDATE idempotency_keys SET customer_id = 'admin' || char(10) || substr(customer_id, 7)
    WHERE customer_id LIKE 'admin:%';

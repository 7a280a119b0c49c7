-- A redemption says what it is: `reserved` (points spent, the shop's coupon call not finished), `done` (it has its
-- code) or `refunded` (the shop could not make a code; the points went back). Only a reserved redemption may be
-- completed or refunded; a done one is answered again, at any age, and never touched.
ALTER TABLE redemptions ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
UPDATE redemptions SET state = 'reserved' WHERE code LIKE 'pending:%';
UPDATE redemptions SET state = 'refunded' WHERE code LIKE 'failed:%';

-- A redemption keeps the reward as it was redeemed (its JSON), so that completing or refunding a reservation later
-- uses what was paid for, not what the program says by then. Rows from before hold NULL: the server then reads the
-- program version in effect when they were made, and the cost the row stored.
ALTER TABLE redemptions ADD COLUMN reward TEXT;

-- A discount code can be withdrawn. Before this migration a replayed key could refund a finished redemption (its
-- points went back, its code stayed usable) or give it a second code (the first stayed usable): every code whose
-- redemption was refunded, or that is not its redemption's code any more, is withdrawn now, so that no code bought
-- with points that were given back can still be used.
ALTER TABLE discount_codes ADD COLUMN voided_at INTEGER;
UPDATE discount_codes SET voided_at = CAST(strftime('%s', 'now') AS INTEGER)
    WHERE consumed_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM redemptions r
        WHERE r.id = discount_codes.redemption_id AND r.state = 'done' AND r.code = discount_codes.code
    );

-- Each claim of an Idempotency-Key gets its own attempt id. A retry that takes over an abandoned claim writes a new
-- one, and every change made under the key checks it in the change's own transaction: the attempt that was taken
-- over can then neither finish nor refund the other's work.
ALTER TABLE idempotency_keys ADD COLUMN attempt TEXT NOT NULL DEFAULT '';

-- An admin's keys were scoped `admin:<customer id>`, which a shopper whose id starts with `admin:` shared. They are
-- now scoped with a line feed, which no shopper id can hold (the identity check refuses it). The prefix is compared
-- exactly (SQLite's LIKE ignores case and would move a shopper `ADMIN:x`'s keys too).
UPDATE idempotency_keys SET customer_id = 'admin' || char(10) || substr(customer_id, 7)
    WHERE substr(customer_id, 1, 6) = 'admin:';

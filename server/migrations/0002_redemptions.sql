-- Redemptions, their single-use discount codes, and the idempotency keys of browser writes.

CREATE TABLE redemptions (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    reward_id TEXT NOT NULL,
    cost INTEGER NOT NULL,
    code TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX redemptions_customer ON redemptions (customer_id, created_at);

-- A code is worth its reward once: consumed by the shop at checkout (or by an order webhook naming it).
CREATE TABLE discount_codes (
    code TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    redemption_id TEXT NOT NULL,
    reward TEXT NOT NULL,          -- the reward as JSON (kind, amountOff, percentOff, productId, minimumOrder)
    created_at INTEGER NOT NULL,
    consumed_at INTEGER,
    consumed_order_id TEXT
);

-- IETF Idempotency-Key draft / Stripe practice: the first result is stored and returned for repeats.
CREATE TABLE idempotency_keys (
    customer_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,           -- running | done
    status INTEGER,
    response TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (customer_id, key)
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

-- Order lines, for the catalog's popularity rank and co-purchase neighbours.
CREATE TABLE order_lines (
    order_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_lines_product ON order_lines (product_id);

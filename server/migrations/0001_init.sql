-- The reference backend's schema. Points are an append-only ledger; balances and tiers are derived from it
-- by loyalty-core. Written in the SQL that SQLite and PostgreSQL share, so a PostgreSQL port needs few changes.

-- Program versions, newest first by id; the active one is the newest whose activates_at has passed.
CREATE TABLE program_versions (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,            -- the validated program as JSON
    etag TEXT NOT NULL,
    activates_at INTEGER NOT NULL, -- Unix seconds
    created_at INTEGER NOT NULL
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,           -- the shop's customer id
    email TEXT,
    signed_up_at INTEGER,
    birthday TEXT,                 -- MM-DD, set once
    referral_code TEXT NOT NULL UNIQUE,
    referred_by TEXT,              -- referral code captured before sign-up
    created_at INTEGER NOT NULL,
    erased_at INTEGER
);

-- Append-only. kind: earn | redeem | reverse | adjust (loyalty_core::LedgerKind).
CREATE TABLE ledger (
    id INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    points INTEGER NOT NULL,
    source TEXT NOT NULL,
    order_id TEXT,
    reason TEXT,                   -- shown to the shopper (e.g. the reward name) or the admin's reason
    actor TEXT,                    -- who made a manual adjustment (audit trail)
    created_at INTEGER NOT NULL
);
CREATE INDEX ledger_customer ON ledger (customer_id, at);

-- Facts that count toward tiers (loyalty_core::QualifyingEvent).
CREATE TABLE qualifying_events (
    id INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    source TEXT NOT NULL,
    spend INTEGER NOT NULL,
    points INTEGER NOT NULL,
    orders INTEGER NOT NULL
);
CREATE INDEX qualifying_customer ON qualifying_events (customer_id, at);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    paid_at INTEGER NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL,       -- what refunds are proportional to, in the order's currency
    spend_base INTEGER NOT NULL,   -- merchandise after discounts, base currency minor units
    awarded INTEGER NOT NULL,
    refunded INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL           -- paid | refunded | cancelled
);

-- Webhook deliveries already handled (order id + event), with the response given, so replays are no-ops.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    response TEXT NOT NULL
);

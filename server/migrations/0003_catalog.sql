-- The shop's catalog as the widget needs it; popularity and neighbours are computed from orders when served.
CREATE TABLE catalog_products (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,            -- the product as JSON (loyalty_core::CatalogProduct, without computed fields)
    updated_at INTEGER NOT NULL
);

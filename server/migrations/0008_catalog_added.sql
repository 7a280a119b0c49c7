-- When each product was first uploaded: the catalog tells widgets which products are new (a shopper without
-- history sees what is popular and new).
ALTER TABLE catalog_products ADD COLUMN created_at INTEGER;
UPDATE catalog_products SET created_at = updated_at WHERE created_at IS NULL;

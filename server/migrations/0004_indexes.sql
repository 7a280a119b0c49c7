-- Indexes for the lookups every request makes (measured with scripts/bench-server.sh).
CREATE INDEX customers_referred_by ON customers (referred_by);
CREATE INDEX orders_customer ON orders (customer_id);

-- `cargo xtask bench api`: the orders both the in-process get-orders bench and pgbench read. 1,100 confirmed
-- orders with two priced lines each; every 11th belongs to the reader (`bench-reader`: 100 orders), the rest
-- to 100 other customers, so the reader's rows are spread through the table and its index as in production.
-- Ids are UUIDv7-shaped and increase with n, as creation order does.
INSERT INTO orders (id, customer_id, status, total_minor, currency, request_hash)
SELECT ('0193b000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       CASE WHEN n % 11 = 0 THEN 'bench-reader' ELSE 'bench-other-' || (n % 100) END,
       'confirmed', 5997, 'EUR', 'h'
FROM generate_series(1, 1100) AS n;
INSERT INTO order_line (order_id, line_no, product_id, quantity, unit_price_minor)
SELECT o.id, l, ('0193a000-0000-7000-8000-00000000000' || l)::uuid, l, 1999
FROM orders o, generate_series(1, 2) AS l
WHERE o.id::text LIKE '0193b000-%';
ANALYZE orders;
ANALYZE order_line;

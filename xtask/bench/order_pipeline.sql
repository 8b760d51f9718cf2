-- pgbench: the SQL of one order's life as the functions run it (create + publish, reserve + publish, commit),
-- two lines per order. Its transactions per second bound what the pipeline can reach on this database.
\set a random(1, 5)
\set b 1 + (:a % 5)
SELECT gen_random_uuid()::text AS oid, gen_random_uuid()::text AS ob1, gen_random_uuid()::text AS ob2,
       '0193a000-0000-7000-8000-00000000000' || :a AS pa, '0193a000-0000-7000-8000-00000000000' || :b AS pb \gset
-- create-order
BEGIN;
SELECT id FROM product_info WHERE id IN (':pa', ':pb');
INSERT INTO orders (id, customer_id, status, request_hash) VALUES (':oid', 'pgbench', 'pending', 'h');
INSERT INTO order_line (order_id, line_no, product_id, quantity) VALUES (':oid', 1, ':pa', 1), (':oid', 2, ':pb', 2);
INSERT INTO outbox (id, destination, payload) VALUES (':ob1', 'orders', '{"version":1}');
COMMIT;
BEGIN;
SELECT id FROM outbox WHERE published_at IS NULL AND id = ':ob1' FOR UPDATE SKIP LOCKED;
UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ':ob1';
COMMIT;
-- process-order
BEGIN;
SELECT * FROM orders WHERE id = ':oid' FOR UPDATE;
SELECT * FROM order_line WHERE order_id = ':oid' ORDER BY line_no;
SELECT * FROM product_info WHERE id IN (':pa', ':pb') ORDER BY id FOR UPDATE;
UPDATE product_info SET stock_reserved = stock_reserved + 1, updated_at = now() WHERE id = ':pa';
UPDATE order_line SET unit_price_minor = 1999 WHERE order_id = ':oid' AND line_no = 1;
UPDATE product_info SET stock_reserved = stock_reserved + 2, updated_at = now() WHERE id = ':pb';
UPDATE order_line SET unit_price_minor = 1999 WHERE order_id = ':oid' AND line_no = 2;
UPDATE orders SET status = 'confirmed', total_minor = 5997, currency = 'EUR', updated_at = now() WHERE id = ':oid';
INSERT INTO outbox (id, destination, payload) VALUES (':ob2', 'stock', '{"version":1}');
COMMIT;
BEGIN;
SELECT id FROM outbox WHERE published_at IS NULL AND id = ':ob2' FOR UPDATE SKIP LOCKED;
UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ':ob2';
COMMIT;
-- update-stock
BEGIN;
SELECT * FROM orders WHERE id = ':oid' FOR UPDATE;
SELECT * FROM order_line WHERE order_id = ':oid' ORDER BY line_no;
SELECT * FROM product_info WHERE id IN (':pa', ':pb') ORDER BY id FOR UPDATE;
UPDATE product_info SET stock_on_hand = stock_on_hand - 1, stock_reserved = stock_reserved - 1, updated_at = now() WHERE id = ':pa' RETURNING *;
UPDATE product_info SET stock_on_hand = stock_on_hand - 2, stock_reserved = stock_reserved - 2, updated_at = now() WHERE id = ':pb' RETURNING *;
UPDATE orders SET status = 'fulfilled', updated_at = now() WHERE id = ':oid';
COMMIT;

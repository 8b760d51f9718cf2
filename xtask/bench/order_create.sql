-- pgbench: create-order's SQL alone (the order, its lines and outbox row in one transaction, then the
-- publish mark), the same statements as the first two transactions of order_pipeline.sql.
\set a random(1, 5)
\set b 1 + (:a % 5)
SELECT gen_random_uuid()::text AS oid, gen_random_uuid()::text AS ob1,
       '0193a000-0000-7000-8000-00000000000' || :a AS pa, '0193a000-0000-7000-8000-00000000000' || :b AS pb \gset
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

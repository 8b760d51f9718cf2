-- pgbench for `cargo xtask bench api`: get-orders' "get one" (`GET /orders/{id}`: the order, if it is the caller's, then its lines), the statements its handler sends, as captured from
-- PostgreSQL's log (log_min_duration_sample = 0) while the in-process bench ran, on the data of
-- get_orders_seed.sql. The handler binds the values as parameters ($1, $2, ...); here they are literals in
-- statements prepared once per connection (pgbench -M prepared), sent the same way: parse once, then bind and
-- execute per request. No transaction, as the handler (autocommit). One pgbench transaction = one request.
SELECT "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total_minor", "orders"."currency", "orders"."rejection_reason", "orders"."cancellation_reason", "orders"."idempotency_key", "orders"."request_hash", "orders"."created_at", "orders"."updated_at" FROM "orders" WHERE "orders"."id" = '0193b000-0000-7000-8000-000000000226' AND "orders"."customer_id" = 'bench-reader' LIMIT 1;
SELECT "order_line"."order_id", "order_line"."line_no", "order_line"."product_id", "order_line"."quantity", "order_line"."unit_price_minor" FROM "order_line" WHERE "order_line"."order_id" IN ('0193b000-0000-7000-8000-000000000226') ORDER BY "order_line"."order_id" ASC, "order_line"."line_no" ASC;

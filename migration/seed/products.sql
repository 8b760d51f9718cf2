-- Demo catalogue for local stacks and benchmarks. Idempotent: re-running resets nothing that exists.
INSERT INTO product_info (id, sku, name, price_minor, currency, stock_on_hand, stock_reserved, low_stock_threshold)
VALUES
    ('0193a000-0000-7000-8000-000000000001', 'TEE-BLK-M',  'Black T-shirt (M)',       1999, 'EUR', 500, 0, 20),
    ('0193a000-0000-7000-8000-000000000002', 'TEE-WHT-L',  'White T-shirt (L)',       1999, 'EUR', 500, 0, 20),
    ('0193a000-0000-7000-8000-000000000003', 'MUG-LOGO',   'Logo mug',                 1250, 'EUR', 200, 0, 10),
    ('0193a000-0000-7000-8000-000000000004', 'CAP-NAVY',   'Navy cap',                 1500, 'EUR', 100, 0, 10),
    ('0193a000-0000-7000-8000-000000000005', 'STK-PACK',   'Sticker pack',              399, 'EUR', 10000, 0, 100),
    ('0193a000-0000-7000-8000-000000000006', 'HOOD-GRY-M', 'Grey hoodie (M)',          4999, 'EUR', 10, 0, 3)
ON CONFLICT (id) DO NOTHING;

"""Schemathesis hooks for `cargo xtask fuzz`: a rejected request changes no stored state.

Around every call the fuzzer makes, the stack's PostgreSQL (`FUZZ_DATABASE_URL`) is read; the check
`rejected_requests_change_nothing` fails when a 4xx/5xx answer, or any GET, coincides with a change.

The pipeline (process-order, update-stock, the relay) keeps moving orders, stock and outbox rows on its own,
after the request that started it has been answered. So two fingerprints are compared:

- `owned`: what only a request can change: the orders and their lines as placed (ids, customer, idempotency
  key, request hash, creation time), how many orders are cancelled, the `orders` outbox rows (one per placed
  order), and the catalogue (products, prices, currencies). Compared after every rejected request.
- `full`: every column of `orders`, `order_line`, `outbox` and `product_info`. Compared only when the pipeline
  was idle before and after the call (no pending or confirmed order, no unpublished outbox row), when
  nothing else can have moved a row; before each call the hook waits up to `FUZZ_SETTLE_SECONDS` (2) for it
  (and, after a wait in vain, not again until it has seen the pipeline idle).

Run with one worker (`--workers 1`): the comparison assumes no other request runs in between.

`map_body` points half of the generated orders at products of the demo catalogue (random UUIDs are all
unknown products, 422), so orders get placed and the stateful phase can follow `Location` to read and cancel
them.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
import uuid

import psycopg
import schemathesis

SETTLE_SECONDS = float(os.environ.get("FUZZ_SETTLE_SECONDS", "2"))

IDLE = """
SELECT NOT EXISTS (SELECT 1 FROM orders WHERE status IN ('pending', 'confirmed'))
   AND NOT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)
"""

OWNED = """
SELECT
  (SELECT count(*) FROM orders),
  (SELECT count(*) FROM orders WHERE status = 'cancelled'),
  (SELECT count(*) FROM order_line),
  (SELECT count(*) FROM outbox WHERE destination = 'orders'),
  (SELECT md5(coalesce(string_agg(concat_ws('|', id, customer_id, idempotency_key, request_hash, created_at),
                                  ',' ORDER BY id), '')) FROM orders),
  (SELECT md5(coalesce(string_agg(concat_ws('|', order_id, line_no, product_id, quantity),
                                  ',' ORDER BY order_id, line_no), '')) FROM order_line),
  (SELECT md5(coalesce(string_agg(concat_ws('|', id, sku, name, price_minor, currency, low_stock_threshold),
                                  ',' ORDER BY id), '')) FROM product_info)
"""

FULL = """
SELECT
  (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM orders t),
  (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.order_id, t.line_no), '')) FROM order_line t),
  (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM outbox t),
  (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM product_info t)
"""

OWNED_NAMES = (
    "orders",
    "cancelled orders",
    "order lines",
    "orders outbox rows",
    "orders as placed",
    "order lines as placed",
    "catalogue",
)
FULL_NAMES = ("orders (all columns)", "order_line", "outbox", "product_info")


class Snapshot:
    """The state of the database at one moment: both fingerprints and whether the pipeline was idle."""

    def __init__(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            # One REPEATABLE READ transaction: every query sees the same moment.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self.idle = conn.execute(IDLE).fetchone()[0]
            self.owned = conn.execute(OWNED).fetchone()
            self.full = conn.execute(FULL).fetchone()

    def changes(self, after: Snapshot) -> list[str]:
        """What differs between this snapshot and a later one, as far as it can be told."""
        changed = [n for n, a, b in zip(OWNED_NAMES, self.owned, after.owned) if a != b]
        if self.idle and after.idle:
            changed += [n for n, a, b in zip(FULL_NAMES, self.full, after.full) if a != b]
        return changed


class State:
    """One connection for the run, the snapshot taken before the current call, and each response's verdict."""

    def __init__(self) -> None:
        self.conn = psycopg.connect(os.environ["FUZZ_DATABASE_URL"], autocommit=True)
        self.before: Snapshot | None = None
        # id(response) -> (response, changes, strict); the response is kept so that its id is not reused.
        self.verdicts: dict[int, tuple[object, list[str], bool]] = {}
        self.calls = 0
        self.strict = 0
        self.patient = True
        self.catalogue = [row[0] for row in self.conn.execute("SELECT id::text FROM product_info ORDER BY id")]
        atexit.register(self.summary)

    def summary(self) -> None:
        if not self.calls:
            return
        print(
            f"state check: {self.calls} calls compared, {self.strict} of them with every column "
            f"(the pipeline idle before and after)",
            file=sys.stderr,
        )

    def settle(self) -> Snapshot:
        """A snapshot once the pipeline is idle, waiting up to SETTLE_SECONDS; after a wait in vain, none until
        the pipeline is seen idle again (rows left stuck by earlier tests must not cost every call the wait)."""
        snapshot = Snapshot(self.conn)
        if self.patient:
            deadline = time.monotonic() + SETTLE_SECONDS
            while not snapshot.idle and time.monotonic() < deadline:
                time.sleep(0.1)
                snapshot = Snapshot(self.conn)
        self.patient = snapshot.idle
        return snapshot


_state: State | None = None


def state() -> State:
    global _state
    if _state is None:
        _state = State()
    return _state


@schemathesis.hook
def map_body(context, body):
    """Half of the well-formed orders (chosen by the first generated id) name catalogue products only, each
    line another product while the catalogue lasts."""
    operation = getattr(context, "operation", None)
    if operation is None or (operation.method.upper(), operation.path) != ("POST", "/orders"):
        return body
    catalogue = state().catalogue
    if not catalogue or not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return body
    lines = [item for item in body["items"] if isinstance(item, dict) and isinstance(item.get("product_id"), str)]
    try:
        ids = [uuid.UUID(item["product_id"]) for item in lines]
    except ValueError:
        return body
    if not ids or ids[0].int % 2:
        return body
    first = (ids[0].int // 2) % len(catalogue)
    for offset, item in enumerate(lines):
        item["product_id"] = catalogue[(first + offset) % len(catalogue)]
    return body


@schemathesis.hook
def before_call(context, case, kwargs):
    state().before = state().settle()


@schemathesis.hook
def after_call(context, case, response):
    s = state()
    if s.before is None:
        return
    after = Snapshot(s.conn)
    s.calls += 1
    strict = s.before.idle and after.idle
    s.strict += strict
    s.verdicts[id(response)] = (response, s.before.changes(after), strict)
    s.before = None
    if len(s.verdicts) > 2000:
        for key in list(s.verdicts)[:1000]:
            del s.verdicts[key]


@schemathesis.check
def rejected_requests_change_nothing(ctx, response, case):
    """A request answered 4xx or 5xx, and any GET, leaves orders, outbox and product_info as they were."""
    verdict = state().verdicts.get(id(response))
    if verdict is None:
        return None
    _, changes, strict = verdict
    rejected = response.status_code >= 400
    if (rejected or case.method.upper() == "GET") and changes:
        kind = "all columns compared" if strict else "request-owned state compared; the pipeline was busy"
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code} "
            f"but changed: {', '.join(changes)} ({kind})"
        )
    return True

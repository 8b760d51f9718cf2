"""Proves, before a fuzz run, that `rejected_requests_change_nothing` (hooks.py) sees a change at all.

On the stack's database (`FUZZ_DATABASE_URL`): two snapshots with nothing in between must be equal, and a
committed change to a product's name (nothing in the pipeline reads names) must show in both fingerprints'
comparison; the name is put back. Exits non-zero otherwise, so a check that has gone blind fails the run.
"""

import os
import sys

import psycopg

sys.path.insert(0, os.path.dirname(__file__))
import hooks  # noqa: E402


def main() -> int:
    state = hooks.state()
    writer = psycopg.connect(os.environ["FUZZ_DATABASE_URL"], autocommit=True)
    product = writer.execute("SELECT id, name FROM product_info ORDER BY id LIMIT 1").fetchone()
    if product is None:
        print("selftest: the catalogue is empty", file=sys.stderr)
        return 1
    before = hooks.Snapshot(state.conn)
    unchanged = before.changes(hooks.Snapshot(state.conn))
    writer.execute("UPDATE product_info SET name = name || ' (fuzz self-test)' WHERE id = %s", (product[0],))
    try:
        changed = before.changes(hooks.Snapshot(state.conn))
    finally:
        writer.execute("UPDATE product_info SET name = %s WHERE id = %s", (product[1], product[0]))
    if unchanged or "catalogue" not in changed:
        print(f"selftest: the state check is blind (unchanged: {unchanged}, changed: {changed})", file=sys.stderr)
        return 1
    print(f"selftest: the state check sees a renamed product ({', '.join(changed)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

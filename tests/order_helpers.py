"""Audit files for the order-time tests: example customers decided, the example order
events (examples/order-events.jsonl) ingested, and example orders checked."""

from __future__ import annotations

from pathlib import Path

from tests.credit_cli import invoke_credit
from tests.paths import ROOT

EXAMPLES = ROOT / "examples"
AS_OF = "2026-11-30"
# bbb-distributor is CUST-10004 (limit 134,000.00 EUR, exposure 10,700.00 in the events),
# bb-construction CUST-10005 (limit 57,000.00, 10,000.00 owed, 60 days overdue).
CUSTOMERS = ("bbb-distributor", "bb-construction")


def order_trail(folder: Path, customers: tuple[str, ...] = CUSTOMERS,
                orders: tuple[str, ...] = ()) -> Path:
    """An audit file in ``folder``: ``customers`` decided on AS_OF, the example order
    events, and ``orders`` (names in examples/orders) checked on AS_OF."""
    db = folder / "audit.db"
    commands = [("decide", EXAMPLES / "customers" / f"{name}.json", "--as-of", AS_OF)
                for name in customers]
    commands.append(("events", "ingest", EXAMPLES / "order-events.jsonl"))
    commands += [("check-order", EXAMPLES / "orders" / f"{name}.json", "--as-of", AS_OF)
                 for name in orders]
    for command in commands:
        result = invoke_credit(*command, "--db", db)
        assert result.exit_code == 0, result.stderr
    return db

"""Order credit checks per second, for a customer with many open items (issue 14's target:
>= 5,000 checks/s on one core, not counting start-up, with 1,000 open items).

Builds an audit file in a temporary folder: one customer decided (bbb-distributor), and
N open items on its account (half open orders, half unpaid invoices not yet due). Then
times, each over a few seconds:
- the whole check, not recording, with the accounts kept between checks (as a service
  keeps them; the exposure is computed once for each state of an account), the same with
  an event appended before each check (the account changes every time), and folded
  afresh (as one ``credit check-order`` does: read the customer's
  events, fold the account, the exposure by category, the latest decision, the holds, the
  checks);
- the pure check alone (``check_order`` on facts already gathered);
- folding the account from events already in memory (no SQLite).

Run by hand (``make bench``), never in CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]

from engine.audit.events import customer_events
from engine.audit.store import AuditStore, NewRecord
from engine.canonical import canonical_json
from engine.enrich.plugin_manager import installed_plugins
from engine.monitor.account import fold
from engine.orders.accounts import AccountBook
from engine.orders.order_check import check_order, check_order_document, order_facts
from engine.ruleset.loader import load_ruleset
from engine.service import decide_and_record

AS_OF = dt.date(2026, 11, 30)
CUSTOMER = ROOT / "examples" / "customers" / "bbb-distributor.json"


def open_items(customer_id: str, count: int) -> list[dict]:
    """``count`` open items: orders not yet delivered and invoices not yet due."""
    events = []
    for n in range(count):
        day = (AS_OF - dt.timedelta(days=1 + n % 20)).isoformat()
        if n % 2:
            events.append({"id": f"B-{n}", "customer_id": customer_id, "type": "order_placed",
                           "occurred_at": day, "order_id": f"SO-{n}", "amount": 100 + n % 50,
                           "delivery_date": (AS_OF + dt.timedelta(days=n % 25)).isoformat()})
        else:
            events.append({"id": f"B-{n}", "customer_id": customer_id,
                           "type": "invoice_issued", "occurred_at": day,
                           "invoice_id": f"IN-{n}", "amount": 100 + n % 50,
                           "due_date": (AS_OF + dt.timedelta(days=30)).isoformat()})
    return events


def rate(run, seconds: float = 3.0) -> float:
    """Calls of ``run`` per second, over about ``seconds``."""
    calls, start = 0, time.perf_counter()
    while True:
        run()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--items", type=int, default=1000)
    args = parser.parse_args()
    ruleset = load_ruleset(ROOT / "rulesets" / "default")
    document = json.loads(CUSTOMER.read_text(encoding="utf-8"))
    customer_id = document["id"]
    order = {"id": "SO-X", "customer_id": customer_id, "amount": 1000}
    with tempfile.TemporaryDirectory() as folder, \
            AuditStore(Path(folder) / "audit.db") as store:
        decide_and_record(ruleset, document, AS_OF, plugins=installed_plugins(), store=store)
        events = open_items(customer_id, args.items)
        store.append([NewRecord("event", canonical_json(e), customer_id=customer_id,
                                as_of=e["occurred_at"]) for e in events])
        whole = rate(lambda: check_order_document(store, ruleset, order, AS_OF,
                                                  record=False))
        accounts = AccountBook(store)
        kept = rate(lambda: check_order_document(store, ruleset, order, AS_OF, record=False,
                                                 accounts=accounts))
        placed = iter(range(10**9))

        def event_then_check():
            n = next(placed)
            event = {"id": f"N-{n}", "customer_id": customer_id, "type": "order_placed",
                     "occurred_at": AS_OF.isoformat(), "order_id": f"SO-N{n}", "amount": 1}
            store.append([NewRecord("event", canonical_json(event), customer_id=customer_id,
                                    as_of=AS_OF.isoformat())])
            check_order_document(store, ruleset, order, AS_OF, record=False,
                                 accounts=accounts)

        moving = rate(event_then_check)
        facts, exposure, _ = order_facts(store, ruleset, order, AS_OF)
        pure = rate(lambda: check_order(ruleset, facts))
        read = rate(lambda: list(customer_events(store, customer_id, AS_OF.isoformat())))
        folded = rate(lambda: fold(customer_id, events, AS_OF))
    print(f"open items on the account                 {args.items:>10,}")
    print(f"exposure counted                          {exposure.total:>10,}")
    print(f"whole check, accounts kept between checks {kept:>10,.0f} /s   target >= 5,000/s")
    print(f"  an event appended before each check     {moving:>10,.0f} /s")
    print(f"whole check, folding the account afresh   {whole:>10,.0f} /s")
    print(f"  reading the events from the trail       {read:>10,.0f} /s")
    print(f"  folding the account (events in memory)  {folded:>10,.0f} /s")
    print(f"  the checks alone (facts gathered)       {pure:>10,.0f} /s")


if __name__ == "__main__":
    main()

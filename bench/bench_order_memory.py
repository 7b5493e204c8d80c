"""Memory of the order-time accounts over a long stream of events (issue 14's target:
memory flat over 1,000,000 events).

A service checking orders keeps every customer's account folded (``AccountBook``) and
applies each new event to it. This folds a steady stream of events into one account per
customer, as the book does: 1,000 customers, each ordering every 4 days, the goods
delivered and invoiced the same day and paid 10 to 70 days later, so that what is open
stays about the same while the history grows. Each mode runs in a process of its own and
prints the memory the accounts hold (tracemalloc, after a full collection) every 100,000
events:
- ``forget``: accounts as they are (orders done and invoices settled two years before are
  forgotten);
- ``keep``: the same with forgetting turned off, to show what it saves.
The event time runs about 2.7 years, so invoices settled more than two years before are
forgotten over the last months of the stream. Run by hand (``make bench``), never in CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]

from engine.monitor import account as account_module
from engine.monitor.account import Account

START = dt.date(2024, 1, 1)
EVERY = 100_000


def stream(customers: int, total: int) -> Iterator[dict]:
    """``total`` events in event-time order (see the module)."""
    payments: dict[int, list[dict]] = {}
    made = day = 0
    while True:
        today = (START + dt.timedelta(days=day)).isoformat()
        todays = payments.pop(day, [])
        for customer in range(day % 4, customers, 4):
            n = f"{customer}-{day}"
            cid, amount = f"C-{customer:04d}", 1000 + (customer * 7 + day) % 4000
            due = (START + dt.timedelta(days=day + 30)).isoformat()
            todays += [
                {"id": f"O{n}", "customer_id": cid, "type": "order_placed",
                 "occurred_at": today, "order_id": f"SO-{n}", "amount": amount},
                {"id": f"D{n}", "customer_id": cid, "type": "delivery_made",
                 "occurred_at": today, "order_id": f"SO-{n}", "amount": amount},
                {"id": f"I{n}", "customer_id": cid, "type": "invoice_issued",
                 "occurred_at": today, "invoice_id": f"IN-{n}", "order_id": f"SO-{n}",
                 "amount": amount, "due_date": due}]
            paid_on = day + 10 + (customer * 13 + day) % 61
            payments.setdefault(paid_on, []).append(
                {"id": f"P{n}", "customer_id": cid, "type": "payment_received",
                 "occurred_at": (START + dt.timedelta(days=paid_on)).isoformat(),
                 "invoice_id": f"IN-{n}", "amount": amount})
        for event in todays:
            yield event
            made += 1
            if made == total:
                return
        day += 1


def run(mode: str, customers: int, total: int) -> None:
    """Fold the stream into accounts; print (events, MB held, open items, last day)."""
    if mode == "keep":
        account_module.FORGET_EVERY = dt.timedelta(days=10 ** 6)
    tracemalloc.start()
    accounts: dict[str, Account] = {}
    for n, event in enumerate(stream(customers, total), start=1):
        account = accounts.get(event["customer_id"])
        if account is None:
            account = accounts[event["customer_id"]] = Account(event["customer_id"])
        account.apply(event)
        if n % EVERY == 0:
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] / 1e6
            items = sum(len(a.invoices) + len(a.orders) for a in accounts.values())
            print(f"{n}\t{held:.1f}\t{items}\t{event['occurred_at']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--mode", choices=("forget", "keep"))
    args = parser.parse_args()
    if args.mode:
        run(args.mode, args.customers, args.events)
        return
    results = {}
    for mode in ("forget", "keep"):
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--events",
                              str(args.events), "--customers", str(args.customers)],
                             capture_output=True, text=True, check=True).stdout
        results[mode] = [line.split("\t") for line in out.splitlines()]
    print(f"accounts of {args.customers:,} customers over {args.events:,} events "
          "(memory held by the accounts, MB; items kept)")
    print(f"{'events':>10}  {'event day':>10}  {'forgetting':>10}  {'items':>7}  "
          f"{'keeping all':>11}  {'items':>7}")
    for (n, held, items, day), (_, kept, all_items, _) in zip(results["forget"],
                                                                 results["keep"], strict=True):
        print(f"{int(n):>10,}  {day:>10}  {float(held):>10.1f}  {int(items):>7,}  "
              f"{float(kept):>11.1f}  {int(all_items):>7,}")
    first = float(results["forget"][len(results["forget"]) // 2][1])
    last = float(results["forget"][-1][1])
    print(f"forgetting: last / half-way = {last / first:.2f}   target: flat (about 1)")


if __name__ == "__main__":
    main()

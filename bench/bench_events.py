"""Account events per second: through ``credit events ingest`` (schema check, idempotency
lookup, chained append) and through the account fold plus the escalation table.

Run by hand (``make bench``); never in CI. Uses examples/events.jsonl (or --events FILE);
files go to a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from engine.audit.events import ingest_events
from engine.audit.store import AuditStore
from engine.monitor.account import fold
from engine.ruleset.escalation import next_step
from engine.ruleset.loader import load_ruleset

AS_OF = dt.date(2026, 12, 31)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default=str(HERE.parent / "examples" / "events.jsonl"))
    args = parser.parse_args()
    events = [json.loads(line) for line in Path(args.events).read_text().splitlines()]
    with tempfile.TemporaryDirectory() as folder, \
            AuditStore(Path(folder) / "events.db") as store:
        start = time.perf_counter()
        report = ingest_events(store, args.events)
        ingest = time.perf_counter() - start
        start = time.perf_counter()
        again = ingest_events(store, args.events)
        repeat = time.perf_counter() - start
    ruleset = load_ruleset(HERE.parent / "rulesets" / "default")
    by_customer = defaultdict(list)
    for event in events:
        by_customer[event["customer_id"]].append(event)
    start = time.perf_counter()
    for customer, own in by_customer.items():
        next_step(ruleset, fold(customer, own, AS_OF).position(AS_OF, "BBB"))
    folding = time.perf_counter() - start
    n = len(events)
    print(f"events                                   {n:>12,}")
    print(f"ingest (check, look up, append)          {report.ingested / ingest:>12,.0f} /s")
    print(f"ingest again (all skipped as seen)       {len(again.duplicates) / repeat:>12,.0f} /s")
    print(f"account fold + escalation step           {n / folding:>12,.0f} events/s "
          f"({len(by_customer):,} customers)")


if __name__ == "__main__":
    main()

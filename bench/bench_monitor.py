"""Account events per second through the monitoring rules (durable_rules), on one core.

Two logs: the example portfolio's year (examples/events.jsonl, 16,052 events, with the
portfolio decided first so that limits, holds and re-grades are in play) and a long
generated log (--customers, default 5,300: about 200,000 events, no decisions). For each:
ingest, the first monitor run (actions appended), a second run for the same date (every
action already taken) and the resident memory at the end. Target: 10,000 events/s or more
through the monitoring rules. Run by hand (``make bench``); never in CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]

from engine.audit.events import ingest_events
from engine.audit.store import AuditStore
from engine.batch import run_batch
from engine.monitor.run import run_monitor
from engine.ruleset.loader import load_ruleset

TARGET = 10_000
RULESET = ROOT / "rulesets" / "default"


def measure(label: str, store: AuditStore, events: Path, as_of: dt.date) -> None:
    ruleset = load_ruleset(RULESET)
    start = time.perf_counter()
    ingested = ingest_events(store, events).ingested
    ingest = time.perf_counter() - start
    runs = []
    for _ in range(2):
        start = time.perf_counter()
        report = run_monitor(store, ruleset, as_of, on_action=lambda action: None)
        runs.append((time.perf_counter() - start, report))
    (first, report), (second, again) = runs
    rate = report.events / first
    print(f"{label}: {report.events:,} events, {report.customers:,} customers")
    print(f"  ingest (check, look up, append)        {ingested / ingest:>10,.0f} events/s")
    print(f"  monitor, first run ({report.taken:,} actions, {report.decisions:,} re-grades)"
          f"\n  {'':38} {rate:>10,.0f} events/s  (ratio to target {rate / TARGET:.2f})")
    print(f"  monitor, same date again ({again.already_taken:,} taken before)"
          f"\n  {'':38} {again.events / second:>10,.0f} events/s")
    print(f"  peak resident memory so far            "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:>10,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5300,
                        help="customers in the long generated log")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "example.db"
        with AuditStore(db) as store:
            run_batch(ROOT / "examples" / "portfolio.csv", Path(folder) / "results.jsonl",
                      RULESET, dt.date(2025, 12, 31), audit=store)
            measure("example log", store, ROOT / "examples" / "events.jsonl",
                    dt.date(2026, 12, 31))
        long_log = Path(folder) / "long.jsonl"
        subprocess.run([sys.executable, str(ROOT / "examples" / "generate_events.py"),
                        "--customers", str(args.customers), "--out", str(long_log)],
                       check=True)
        with AuditStore(Path(folder) / "long.db") as store:
            measure("long generated log", store, long_log, dt.date(2026, 12, 31))


if __name__ == "__main__":
    main()

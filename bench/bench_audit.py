"""Audited decisions per second for a batch, and audit-trail verification speed.

Prints:
- a batch of N generated customers (default 100,000) from CSV through ``run_batch`` with
  the audit trail, one process: audited decisions per second (target: 20,000/s), the
  same batch without the audit, to show what auditing costs, and with two workers;
- the in-memory part alone (decide + audit record + results line), no file I/O;
- ``audit verify`` over a trail of M records (default 1,000,000; target: under 10 s).

Run by hand (``make bench``); never in CI. Files go to a temporary folder, removed after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "examples")]

from generate_portfolio import customers, write

from engine.audit.chain import verify_file
from engine.audit.decision_records import decision_record
from engine.audit.store import AuditStore
from engine.batch import run_batch
from engine.decide.pipeline import decide
from engine.ruleset.loader import load_ruleset

AS_OF = dt.date(2026, 11, 30)
RULESET = HERE.parent / "rulesets" / "default"


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=100_000)
    parser.add_argument("-m", "--verify-records", type=int, default=1_000_000)
    parser.add_argument("--commit-every", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        portfolio = folder / "portfolio.csv"
        with portfolio.open("w", encoding="utf-8", newline="") as out:
            write(customers(count=args.count, as_of=AS_OF), out, "csv")
        n = args.count

        plain = timed(lambda: run_batch(portfolio, folder / "plain.jsonl", RULESET, AS_OF))
        with AuditStore(folder / "batch.db") as store:
            audited = timed(lambda: run_batch(portfolio, folder / "audited.jsonl", RULESET,
                                              AS_OF, audit=store,
                                              commit_every=args.commit_every))
        with AuditStore(folder / "batch2.db") as store:
            two = timed(lambda: run_batch(portfolio, folder / "audited2.jsonl", RULESET,
                                          AS_OF, audit=store, workers=2,
                                          commit_every=args.commit_every))
        print(f"customers                                {n:>12,}")
        print(f"batch without audit (CSV in, JSONL out)  {n / plain:>12,.0f} /s")
        print(f"batch with audit                         {n / audited:>12,.0f} /s"
              "   (target >= 20,000)")
        print(f"batch with audit, --workers 2            {n / two:>12,.0f} /s")

        ruleset = load_ruleset(RULESET)
        docs = list(customers(count=min(n, 20_000), as_of=AS_OF))
        salt = b"bench"
        in_memory = timed(lambda: [decision_record(decide(ruleset, d, AS_OF), salt)
                                   for d in docs])
        print(f"decide + audit record, in memory         {len(docs) / in_memory:>12,.0f} /s")

        # A long trail for verify: real decision records, appended in large transactions.
        records = [decision_record(decide(ruleset, d, AS_OF), salt)[0] for d in docs[:2000]]
        with AuditStore(folder / "verify.db") as store:
            store.store_ruleset(ruleset)
            total = 1
            start = time.perf_counter()
            while total < args.verify_records:
                size = min(10_000, args.verify_records - total)
                store.append(records[i % len(records)] for i in range(total, total + size))
                total += size
            append_rate = (total - 1) / (time.perf_counter() - start)
        path = str(folder / "verify.db")
        one = timed(lambda: verify_file(path, workers=1))
        seconds = timed(lambda: verify_file(path))
        report = verify_file(path)
        size_mb = (folder / "verify.db").stat().st_size / 1e6
        print(f"append (store only, 10,000 per commit)   {append_rate:>12,.0f} /s")
        label = f"verify {report.checked:,} records ({size_mb:,.0f} MB)"
        print(f"{label}, 1 process{'':>{max(1, 30 - len(label))}}{one:>8.2f} s"
              f"   ({report.checked / one:,.0f} records/s)")
        print(f"{label}, all cores{'':>{max(1, 30 - len(label))}}{seconds:>8.2f} s"
              f"   ({report.checked / seconds:,.0f} records/s; target < 10 s for 1,000,000)")
        if not report.ok:
            sys.exit(f"verify failed: {report.reason}")


if __name__ == "__main__":
    main()

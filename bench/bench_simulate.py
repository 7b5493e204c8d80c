"""How long ``credit simulate`` takes over a generated portfolio (target: 100,000 customers
in under 10 s).

The baseline is rulesets/default; the candidate is a copy with a scorecard bin, a band and
a policy row changed, so that customers really move. Each customer is read from CSV,
checked, enriched once (the industry reference table, the overrides register) and
decided under both rulesets; only the report's totals are kept.

Prints the time with one process and with one worker per core, the customers per second,
and the ratio of the target to the time taken (above 1 means the target is met).
Run by hand (``make bench``); never in CI. Files go to a temporary folder, removed after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "examples")]

from generate_portfolio import customers, write

from engine.quality.simulate import simulate_portfolio

AS_OF = dt.date(2026, 11, 30)
RULESET = HERE.parent / "rulesets" / "default"
TARGET_SECONDS = 10.0
TARGET_RATE = 100_000 / TARGET_SECONDS  # customers per second
CHANGES = {  # file -> (text in the default ruleset, text in the candidate)
    "grading.yaml": ('{range: "[1.0..1.5)", points: 50}', '{range: "[1.0..1.5)", points: 60}'),
    "policy.yaml": ("financials.equity * 0.10", "financials.equity * 0.11"),  # grade A
}


def candidate_ruleset(folder: Path) -> Path:
    """A copy of the default ruleset with CHANGES made."""
    target = folder / "candidate"
    shutil.copytree(RULESET, target)
    for name, (before, after) in CHANGES.items():
        path = target / name
        text = path.read_text(encoding="utf-8")
        if text.count(before) != 1:
            sys.exit(f"bench: {name} no longer holds {before!r}; update CHANGES")
        path.write_text(text.replace(before, after), encoding="utf-8")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes for the parallel run (default: one per core)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        portfolio = folder / "portfolio.csv"
        with portfolio.open("w", encoding="utf-8", newline="") as out:
            write(customers(count=args.count, as_of=AS_OF), out, "csv")
        candidate = candidate_ruleset(folder)
        # No overrides register: the audit file named here does not exist.
        os.environ["CREDIT_DB"] = str(folder / "none.db")

        timings = {}
        for workers in sorted({1, args.workers}):
            start, cpu = time.perf_counter(), _cpu_seconds()
            simulation = simulate_portfolio(portfolio, RULESET, candidate, AS_OF,
                                            workers=workers)
            timings[workers] = (time.perf_counter() - start, _cpu_seconds() - cpu)
        summary = simulation.summary()

    n = args.count
    print(f"customers                          {n:>12,}")
    print(f"moved grade                        {summary['upgraded'] + summary['downgraded']:>12,}")
    print(f"granted limits change              {summary['granted']['change']:>12} EUR")
    for workers, (seconds, cpu) in timings.items():
        label = "one process" if workers == 1 else f"{workers} workers"
        print(f"simulate, {label:<24} {seconds:>10.2f} s   {n / seconds:>8,.0f} customers/s"
              f"   ratio to target {n / seconds / TARGET_RATE:.2f}"
              f"   (target: 100,000 in < {TARGET_SECONDS:.0f} s; CPU {cpu:.1f} s)")
    print(f"load average while measuring       {os.getloadavg()[0]:>12.2f}"
          "   (other work on the machine slows every figure)")


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()

"""Decisions per second through the default ruleset, in one process.

Prints, for N generated customers (default 100,000):
- the compiled grading stage against a hand-written plain-Python grading function (the
  speed limit) and their ratio (target: compiled at least a third of hand-written);
- the whole pipeline, admission + grading + policy + approval with trace (target 50,000/s);
- the pipeline plus the decision's canonical JSON, as batch writes it.

Run by hand (``make bench`` or ``python bench/bench_decide.py -n 20000``); never in CI.
Each figure is the best of --repeat runs, to keep a busy machine's noise out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "examples"), str(HERE)]

from generate_portfolio import customers
from handwritten_grading import grade as handwritten_grade

from engine.canonical import canonical_json
from engine.decide.pipeline import decide
from engine.ruleset.loader import load_ruleset

AS_OF = dt.date(2026, 11, 30)


def best_of(repeat: int, run) -> float:
    """Shortest wall time of ``repeat`` runs of ``run()``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ruleset", default=str(HERE.parent / "rulesets" / "default"))
    args = parser.parse_args()

    ruleset = load_ruleset(args.ruleset)
    docs = list(customers(count=args.count, as_of=AS_OF))
    values = []
    for doc in docs:  # facts and derived facts, as the grading stage reads them
        v = ruleset.extract(doc, AS_OF)
        ruleset.derive(v, [].append)
        values.append(v)

    mismatches = 0
    for v in values:
        compiled = ruleset.grading(v, [].append)
        hand = handwritten_grade(v)
        if (compiled[0], compiled[1], compiled[2], compiled[4]) != hand:
            mismatches += 1
    if mismatches:
        sys.exit(f"hand-written grading disagrees with the ruleset on {mismatches} customers")

    def run_compiled():
        grading = ruleset.grading
        for v in values:
            grading(v, [].append)

    def run_handwritten():
        for v in values:
            handwritten_grade(v)

    def run_pipeline():
        for doc in docs:
            decide(ruleset, doc, AS_OF)

    def run_pipeline_json():
        for doc in docs:
            canonical_json(decide(ruleset, doc, AS_OF).to_dict())

    n = len(docs)
    compiled_rate = n / best_of(args.repeat, run_compiled)
    hand_rate = n / best_of(args.repeat, run_handwritten)
    pipeline_rate = n / best_of(args.repeat, run_pipeline)
    json_rate = n / best_of(args.repeat, run_pipeline_json)
    print(f"customers                          {n:>12,}")
    print(f"grading, hand-written (limit)      {hand_rate:>12,.0f} /s")
    print(f"grading, compiled with trace       {compiled_rate:>12,.0f} /s")
    print(f"ratio compiled / hand-written      {compiled_rate / hand_rate:>12.2f}"
          "   (target >= 0.33)")
    print(f"pipeline, with trace               {pipeline_rate:>12,.0f} /s   (target >= 50,000)")
    print(f"pipeline + canonical JSON          {json_rate:>12,.0f} /s")


if __name__ == "__main__":
    main()

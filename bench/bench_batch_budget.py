"""Where an audited batch row's CPU goes, and the budget issue 12's two batch rates leave.

Prints, for a generated portfolio of N customers (default 20,000), CPU time a row:

- the batch in one process without the audit trail and with it (``$CREDIT_DB`` names an
  audit file in both, as ``credit batch --db FILE`` runs, so the overrides plugin watches
  a real file either way): what auditing adds to a row;
- the audit record of one decision (its texts, compression and hash), as stored, and as it
  would cost with its trace's values read left out, and with no trace at all. These two
  only measure what the trace costs: the record writer is handed a shortened trace in
  this process, and nothing is stored that way;
- two one-process batches at the same time, each in a process of its own with its own
  portfolio and audit file, so that nothing is shared: the rate this machine's two cores
  give at today's cost of a row with no parallel overhead at all, beside
  ``--workers 2`` (its CPU a row counted over the whole machine: keep it quiet);
- what each target leaves a row: 10,000 /s in one process is 100 us of CPU; 18,000 /s on
  two cores is 111 us, counting every process.

Run by hand (``make bench``), never in CI; files go to a temporary folder, removed after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]

from generate_portfolio import customers, write

from engine.audit import decision_texts
from engine.audit.decision_records import unpacked_decision_record
from engine.audit.store import AuditStore
from engine.batch import run_batch
from engine.enrich.plugin_manager import installed_plugins
from engine.ruleset.loader import load_ruleset
from engine.service import decide_document

AS_OF = dt.date(2025, 12, 31)
RULESET = ROOT / "rulesets" / "default"
ONE_PROCESS_TARGET = 10_000  # decisions a second (issue 12)
TWO_WORKERS_TARGET = 18_000
CORES = 2


def batch_cpu(portfolio: Path, folder: Path, *, audited: bool, workers: int = 1) -> dict:
    """One batch of ``portfolio`` into a new audit file in ``folder``: its wall time, this
    process's CPU time and the whole machine's busy time (Linux's /proc/stat), seconds."""
    db = folder / f"audit-{time.monotonic_ns()}.db"
    os.environ["CREDIT_DB"] = str(db)
    with AuditStore(db) as store:  # made in both cases: the plugin watches a real file
        busy = machine_busy()
        start, cpu = time.perf_counter(), time.process_time()
        run_batch(portfolio, folder / "results.jsonl", RULESET, AS_OF, workers=workers,
                  audit=store if audited else None)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        busy = machine_busy() - busy
    return {"wall": wall, "cpu": cpu, "busy": busy}


def machine_busy() -> float:
    """Seconds of CPU every process of the machine has used since it started."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def record_cost(decisions: list, shorten) -> tuple[float, float]:
    """CPU a record (texts, compression, hash) and its body's stored bytes, best of 5, with
    the record writer handed each trace through ``shorten`` (None: the trace as it is)."""
    salt = b"\0" * 32
    kept = decision_texts.compact_trace
    if shorten is not None:
        decision_texts.compact_trace = shorten
    try:
        best, size = float("inf"), 0.0
        for _ in range(5):
            start = time.process_time()
            records = [unpacked_decision_record(d.decision, salt, plugins=d.plugins,
                                                enriched=d.enriched,
                                                challenger=d.challenger)[0].packed()
                       for d in decisions]
            best = min(best, time.process_time() - start)
            size = sum(len(record.body) for record in records) / len(records)
    finally:
        decision_texts.compact_trace = kept
    return best / len(decisions), size


def without_values_read(trace: list) -> list:
    return [(slot[0], result) for slot, _values, result in trace]


def without_trace(trace: list) -> list:
    return []


def single(portfolio: str, folder: str) -> None:
    """``--single``: one audited batch in this process, its figures as JSON."""
    print(json.dumps(batch_cpu(Path(portfolio), Path(folder), audited=True)))


def two_at_once(portfolios: list[Path], folder: Path) -> list[dict]:
    """Two audited one-process batches started together, each in a process of its own."""
    runs = []
    for index, portfolio in enumerate(portfolios):
        own = folder / f"apart-{index}"
        own.mkdir()
        runs.append(subprocess.Popen([sys.executable, __file__, "--single", str(portfolio),
                                      str(own)], stdout=subprocess.PIPE, text=True))
    return [json.loads(run.communicate()[0]) for run in runs]


def row(label: str, value: str, note: str = "") -> None:
    print(f"{label:<58}{value:>14}   {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=20_000)
    parser.add_argument("--single", nargs=2, metavar=("PORTFOLIO", "FOLDER"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        single(*args.single)
        return
    n = args.count
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        portfolios = [folder / "portfolio.csv", folder / "portfolio-2.csv"]
        for portfolio in portfolios:
            with portfolio.open("w", encoding="utf-8", newline="") as out:
                write(customers(count=n, as_of=AS_OF), out, "csv")
        batch_cpu(portfolios[0], folder, audited=True)  # warm: caches, compiled ruleset
        bare = min(batch_cpu(portfolios[0], folder, audited=False)["cpu"]
                   for _ in range(2)) / n
        audited = min(batch_cpu(portfolios[0], folder, audited=True)["cpu"]
                      for _ in range(2)) / n
        ruleset, plugins = load_ruleset(RULESET), installed_plugins()
        decided = [decide_document(ruleset, document, AS_OF, plugins)
                   for document in customers(count=min(n, 5_000), as_of=AS_OF)]
        as_stored = record_cost(decided, None)
        no_reads = record_cost(decided, without_values_read)
        no_trace = record_cost(decided, without_trace)
        apart = two_at_once(portfolios, folder)
        workers = batch_cpu(portfolios[0], folder, audited=True, workers=2)
        del os.environ["CREDIT_DB"]

    us = 1e6
    print(f"{n:,} generated customers, default ruleset, CPU time a row")
    row("batch, one process, without the audit trail", f"{bare * us:.0f} us")
    row("batch, one process, audited", f"{audited * us:.0f} us",
        f"{1 / audited:,.0f} /s of CPU")
    row("  what auditing adds", f"{(audited - bare) * us:.0f} us")
    row("  a decision's record, as stored", f"{as_stored[0] * us:.1f} us",
        f"body {as_stored[1]:.0f} B")
    row("  the same without the trace's values read", f"{no_reads[0] * us:.1f} us",
        f"body {no_reads[1]:.0f} B")
    row("  the same without any trace", f"{no_trace[0] * us:.1f} us",
        f"body {no_trace[1]:.0f} B")
    row("  audited batch if it stored no trace (estimate)",
        f"{(audited - as_stored[0] + no_trace[0]) * us:.0f} us")
    row(f"one process at {ONE_PROCESS_TARGET:,} /s leaves", f"{us / ONE_PROCESS_TARGET:.0f} us")
    together = 2 * n / max(run["wall"] for run in apart)
    row("two one-process batches at once, nothing shared", f"{together:,.0f} /s",
        "cpu a row: " + ", ".join(f"{run['cpu'] / n * us:.0f}" for run in apart) + " us")
    row("audited batch --workers 2", f"{n / workers['wall']:,.0f} /s",
        f"machine cpu a row {workers['busy'] / n * us:.0f} us")
    row(f"two cores at {TWO_WORKERS_TARGET:,} /s leave",
        f"{CORES * us / TWO_WORKERS_TARGET:.0f} us", "counting every process")


if __name__ == "__main__":
    main()

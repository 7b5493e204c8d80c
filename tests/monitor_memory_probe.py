"""Run in a subprocess by test_monitor_memory.py: ingest a long generated event log and
monitor it, printing (as JSON) the resident memory early in the run and at its end."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from engine.audit.events import ingest_events
from engine.audit.store import AuditStore
from engine.monitor.run import run_monitor
from engine.ruleset.loader import load_ruleset


def resident_kib() -> int:
    """This process's resident memory now (VmRSS), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def main(folder: str, customers: int) -> None:
    events = Path(folder) / "events.jsonl"
    subprocess.run([sys.executable, "examples/generate_events.py", "--customers",
                    str(customers), "--out", str(events)], check=True)
    samples: dict[int, int] = {}
    early = customers // 10

    def sample(done: int) -> None:
        if done in (early, customers):
            samples[done] = resident_kib()

    with AuditStore(Path(folder) / "audit.db") as store:
        ingested = ingest_events(store, events).ingested
        report = run_monitor(store, load_ruleset("rulesets/default"), dt.date(2026, 12, 31),
                             on_action=lambda action: None, progress=sample)
    print(json.dumps({"ingested": ingested, "events": report.events,
                      "customers": report.customers, "actions": report.taken,
                      "early_kib": samples[early], "end_kib": samples[customers]}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

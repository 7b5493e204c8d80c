"""Two `credit monitor` processes at once on the example year (real subprocesses on a real
SQLite file): each action is taken once, whichever process takes it."""

from __future__ import annotations

import json
import subprocess

import pytest

from engine.audit.store import AuditStore
from tests.credit_cli import CREDIT
from tests.paths import ROOT

pytest.importorskip("durable.engine", reason="durable-rules does not import here")


@pytest.mark.slow
def test_two_runs_at_once_take_each_action_once(tmp_path, credit):
    db = tmp_path / "audit.db"
    assert credit("batch", str(ROOT / "examples" / "portfolio.csv"), "--out",
                  tmp_path / "results.jsonl", "--as-of", "2025-12-31", "--db", db,
                  "--workers", "2").exit_code == 0
    assert credit("events", "ingest", str(ROOT / "examples" / "events.jsonl"),
                  "--db", db).exit_code == 0
    command = [*CREDIT, "monitor", "--as-of", "2026-06-30", "--db", str(db), "--json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=ROOT) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    taken = sorted(len(json.loads(stdout)) for stdout, _ in outputs)
    with AuditStore(db) as store:
        keys = [json.loads(row["body"])["key"] for row in store.iter_rows(
            "SELECT body FROM records WHERE kind = 'action'")]
    assert taken[0] == 0 and taken[1] == len(keys) > 500
    assert len(keys) == len(set(keys))
    assert credit("audit", "verify", "--db", db).exit_code == 0

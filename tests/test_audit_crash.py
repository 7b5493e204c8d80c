"""A batch killed with SIGKILL mid-run leaves a trail that verifies, and --resume finishes
it without deciding any row twice."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time

import pytest

from tests.audit_helpers import AS_OF, committed_decisions, generate, rows, verify
from tests.credit_cli import CREDIT
from tests.paths import ROOT

ROWS = 20_000
COMMIT_EVERY = 200


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path, credit):
    portfolio = generate(tmp_path / "p.csv", ROWS, seed=21)
    db, out = tmp_path / "audit.db", tmp_path / "results.jsonl"
    args = ["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF,
            "--commit-every", str(COMMIT_EVERY), "--db", str(db)]
    proc = subprocess.Popen([*CREDIT, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while committed_decisions(db) < 5 * COMMIT_EVERY:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no decision committed in 15 s"
            time.sleep(0.02)
        assert proc.poll() is None, "the batch finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()

    # What the killed run left: a trail that verifies, whole transactions only.
    result = verify(db)
    assert result.exit_code == 0, result.output
    before = rows(db, "SELECT batch_id, batch_row FROM records WHERE kind = 'decision'")
    assert 0 < len(before) < ROWS
    assert len(before) % COMMIT_EVERY == 0
    (batch_id,) = {r["batch_id"] for r in before}
    kinds = [r["kind"] for r in rows(db, "SELECT kind FROM records WHERE kind != "
                                         "'decision' ORDER BY seq")]
    assert kinds == ["ruleset-loaded", "batch"]  # started, never finished
    assert not out.exists()

    # Resume finishes the same batch.
    result = credit(*args, "--resume", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["batch_id"] == batch_id
    assert summary["decided"] == ROWS and summary["failed"] == 0
    assert summary["resumed"] == len(before)

    decisions = rows(db, "SELECT batch_row, decision_id, customer_id FROM records "
                         "WHERE kind = 'decision' AND batch_id = ? ORDER BY seq", (batch_id,))
    batch_rows = [r["batch_row"] for r in decisions]
    assert len(batch_rows) == ROWS
    assert sorted(batch_rows) == list(range(1, ROWS + 1))  # each row exactly once
    assert rows(db, "SELECT count(*) AS n FROM records WHERE kind = 'decision'")[0]["n"] == ROWS

    marks = [json.loads(r["body"])["event"] for r in rows(
        db, "SELECT body FROM records WHERE kind = 'batch' AND batch_id = ? ORDER BY seq",
        (batch_id,))]
    assert marks == ["batch-started", "batch-finished"]

    # The results file has every row, in portfolio order, matching the audit trail.
    with portfolio.open(newline="", encoding="utf-8") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["customer_id"] for line in lines] == ids
    by_row = {r["batch_row"]: r["decision_id"] for r in decisions}
    assert [line["decision_id"] for line in lines] == [by_row[n] for n in range(1, ROWS + 1)]
    assert not (tmp_path / "results.jsonl.partial").exists()

    result = verify(db)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {ROWS + 3:,} records verified")

    # The run is finished now: a second resume has nothing to do.
    again = credit(*args, "--resume")
    assert again.exit_code == 1
    assert "finished; nothing to resume" in again.stderr

"""A resumed batch writes the same bytes as an uninterrupted one, whatever the kill point
and the number of workers; worker processes never inherit the caller's SQLite state."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.parallel import map_chunks
from tests.audit_helpers import AS_OF, committed_decisions, generate
from tests.credit_cli import CREDIT
from tests.paths import ROOT

ROWS = 3_000
COMMIT_EVERY = 100


def parent_pid(_state: None, chunk: list) -> list[int]:
    """Run in a worker: the pid of the process that started it, once per row."""
    return [os.getppid() for _ in chunk]


def no_setup() -> None:
    """A worker initializer that does nothing."""


def test_workers_are_not_forked_from_the_process_that_holds_the_audit_file(tmp_path):
    conn = sqlite3.connect(tmp_path / "audit.db")  # what a batch holds open while it runs
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("CREATE TABLE t (x)")
    try:
        parents = [pid for result in map_chunks(iter([[1, 2], [3]]), parent_pid, (),
                                                workers=2, initializer=no_setup,
                                                initargs=())
                   for pid in result]
    finally:
        conn.close()
    assert len(parents) == 3
    assert os.getpid() not in parents


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*CREDIT, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The portfolio, and the results of one run of it that nothing interrupted."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    portfolio = generate(folder / "p.csv", ROWS, seed=33)
    out = folder / "results.jsonl"
    done = run("batch", portfolio, "--out", out, "--as-of", AS_OF, "--db", folder / "a.db")
    assert done.returncode == 0, done.stderr
    return portfolio, out.read_bytes()


@pytest.mark.slow
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kill_after=st.integers(1, ROWS // COMMIT_EVERY - 2), first_workers=st.sampled_from([1, 2]),
       resume_workers=st.sampled_from([1, 2, 3]))
def test_a_resumed_batch_writes_what_an_uninterrupted_one_does(
        uninterrupted, tmp_path_factory, kill_after, first_workers, resume_workers):
    portfolio, expected = uninterrupted
    folder = tmp_path_factory.mktemp("resumed")
    db, out = folder / "audit.db", folder / "results.jsonl"
    args = ["batch", portfolio, "--out", out, "--as-of", AS_OF, "--db", db,
            "--commit-every", COMMIT_EVERY]
    proc = subprocess.Popen([*CREDIT, *map(str, args), "--workers", str(first_workers)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while committed_decisions(db) < kill_after * COMMIT_EVERY and proc.poll() is None:
            assert time.monotonic() < deadline, "no progress in 60 s"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    resumed = run(*args, "--workers", resume_workers, "--resume")
    if "finished; nothing to resume" in resumed.stderr:  # killed too late: it had finished
        assert out.read_bytes() == expected
        return
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes() == expected
    assert run("audit", "verify", "--db", db).returncode == 0

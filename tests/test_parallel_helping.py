"""map_chunks with ``work_here``: the calling process works on the first chunks while the
workers start, and the results still come in input order, whoever made them; a batch
whose first chunks the parent decides writes the same results and records as one
process."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
from functools import partial

import pytest

from engine.audit.store import AuditStore
from engine.batch import run_batch
from engine.enrich.plugin_manager import BUILTIN_PLUGINS
from engine.parallel import PRELOAD, map_chunks
from tests.audit_helpers import generate
from tests.paths import DEFAULT_RULESET


def doubled(_state: None, chunk: list[int]) -> list[tuple[int, int]]:
    """Each number doubled, with the pid of the process that did it."""
    return [(os.getpid(), number * 2) for number in chunk]


def refused(_state: None, chunk: list[int]) -> list:
    raise ValueError(f"refused {chunk[0]}")


def no_setup() -> None:
    """A worker initializer that does nothing."""


def run(chunks: list[list[int]], work=doubled, work_here=doubled) -> list[list[tuple]]:
    # work_here is the work with this process's state (what no_setup gives) bound
    return list(map_chunks(iter(chunks), work, (), workers=2, initializer=no_setup,
                           initargs=(), work_here=partial(work_here, None)))


def test_results_come_in_input_order_whoever_made_them():
    chunks = [[3 * index, 3 * index + 1, 3 * index + 2] for index in range(40)]
    results = run(chunks)
    assert [value for result in results for _, value in result] == \
        [2 * number for chunk in chunks for number in chunk]
    makers = [result[0][0] for result in results]
    assert makers[0] == os.getpid()  # the first chunk is always done here
    assert os.getpid() not in makers[1:3]  # the next ones start the workers
    assert len(set(makers)) > 1


def test_a_single_chunk_is_done_here_without_starting_a_worker():
    assert run([[1, 2]]) == [[(os.getpid(), 2), (os.getpid(), 4)]]


def test_no_chunks_no_results():
    assert run([]) == []


def test_an_error_here_is_raised_as_it_is():
    with pytest.raises(ValueError, match="refused 0"):
        run([[0], [1], [2]], work_here=refused)


def test_an_error_in_a_worker_is_raised_as_it_is():
    with pytest.raises(ValueError, match="refused 1"):
        run([[0], [1], [2]], work=refused)


def test_the_switch_interval_is_given_back():
    before = sys.getswitchinterval()
    run([[number] for number in range(10)])
    assert sys.getswitchinterval() == before


def test_the_fork_server_imports_every_built_in_plugin():
    assert set(BUILTIN_PLUGINS) <= set(PRELOAD)


def test_a_batch_the_parent_helps_with_writes_what_one_process_writes(tmp_path):
    """4,000 rows: eight chunks, the first decided by the parent, the next two by the
    workers, the rest by whoever is free first."""
    portfolio = generate(tmp_path / "p.csv", 4000, seed=9)
    runs = []
    for workers in (1, 2):
        out, db = tmp_path / f"out{workers}.jsonl", tmp_path / f"audit{workers}.db"
        with AuditStore(db) as store:
            run_batch(portfolio, out, DEFAULT_RULESET, dt.date(2026, 11, 30),
                      workers=workers, audit=store)
        with sqlite3.connect(db) as conn:
            records = conn.execute(
                "SELECT seq, kind, decision_id, customer_id, as_of, ruleset_hash, outcome, "
                "grade, credit_limit, batch_id, batch_row, body, body_sha256 FROM records "
                "ORDER BY seq").fetchall()
        conn.close()
        runs.append((out.read_bytes(), records))
    assert runs[0] == runs[1]
    assert len(runs[0][1]) > 4000

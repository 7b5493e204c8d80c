"""Worker processes decide with the caller's environment as it is when a run begins, not
as it was when the fork server (which outlives a run) started: an API user who runs two
batches against two audit files in one process gets each file's overrides applied."""

from __future__ import annotations

import datetime as dt
import json
import os

from engine.audit.override_register import add_override
from engine.audit.store import AuditStore
from engine.batch import run_batch
from engine.parallel import map_chunks
from tests.audit_helpers import generate
from tests.paths import DEFAULT_RULESET

SETTING = "CREDIT_TEST_PARALLEL_SETTING"


def setting_seen(_state: None, chunk: list[int]) -> list[tuple[int, str | None]]:
    return [(number, os.environ.get(SETTING)) for number in chunk]


def no_setup() -> None:
    """A worker initializer that does nothing."""


def seen_by_workers() -> set[str | None]:
    chunks = iter([[1], [2], [3], [4]])
    return {value for results in map_chunks(chunks, setting_seen, (), workers=2,
                                            initializer=no_setup, initargs=())
            for _, value in results}


def test_workers_see_a_setting_changed_after_the_fork_server_started(monkeypatch):
    monkeypatch.setenv(SETTING, "first")
    assert seen_by_workers() == {"first"}
    monkeypatch.setenv(SETTING, "second")
    assert seen_by_workers() == {"second"}
    monkeypatch.delenv(SETTING)
    assert seen_by_workers() == {None}


def test_a_second_batch_applies_the_overrides_of_its_own_audit_file(tmp_path, monkeypatch):
    portfolio = generate(tmp_path / "p.csv", 1000, seed=4)
    last = portfolio.read_text(encoding="utf-8").splitlines()[-1].split(",")[0]
    outcomes = {}
    for name in ("a", "b"):
        db = tmp_path / f"{name}.db"
        monkeypatch.setenv("CREDIT_DB", str(db))  # as the CLI's --db sets it
        with AuditStore(db) as store:
            if name == "b":
                add_override(store, last, "refer", True, "site visit", "ana",
                             "credit_manager")
            run_batch(portfolio, tmp_path / f"{name}.jsonl", DEFAULT_RULESET,
                      dt.date(2026, 11, 30), workers=2, audit=store)
        line = (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()[-1]
        result = json.loads(line)
        assert result["customer_id"] == last
        outcomes[name] = (result["admission"]["outcome"],
                          [o["applied"] for o in result["overrides"]])
    assert outcomes["a"][1] == []
    assert outcomes["b"] == ("refer", [True])

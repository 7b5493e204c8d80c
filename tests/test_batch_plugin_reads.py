"""What the built-in plugins see while a batch runs: a change of the overrides register,
made by another process, is seen by the next row decided (between two chunks and commits,
or in the middle of a chunk); the plugins' settings from the environment are read once a
chunk, so a change made between two chunks is seen by the first row of the next, the
moment the next row saw it when they were read on every row."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading

import pytest

from engine import batch as batch_module
from engine import parallel
from engine.audit.store import AuditStore
from engine.enrich import settings
from engine.enrich.hookspecs import hookimpl
from tests.audit_helpers import generate
from tests.paths import ROOT
from tests.plugin_helpers import install, plugins_with

AS_OF = dt.date(2026, 11, 30)
DEFAULT_RULESET = str(ROOT / "rulesets" / "default")


def _add_override_elsewhere(db, customer_id: str) -> None:
    """An override for ``customer_id`` (a referral), added by another process."""
    subprocess.run([sys.executable, "-c", (
        "import sys; from engine.audit.store import AuditStore; "
        "from engine.audit.override_register import add_override; "
        "store = AuditStore(sys.argv[1]); "
        "add_override(store, sys.argv[2], 'refer', True, 'site visit', 'ann', "
        "'credit_analyst'); store.close()"), str(db), customer_id],
        check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def run(tmp_path, monkeypatch):
    """run(on_progress=None, chunk=2) -> the decisions of an audited batch of six
    generated customers in chunks of ``chunk`` rows (a commit every two records), with
    the audit file as $CREDIT_DB."""
    portfolio = generate(tmp_path / "p.csv", 6)
    db = tmp_path / "audit.db"
    monkeypatch.setenv("CREDIT_DB", str(db))

    def run_it(on_progress=None, chunk=2):
        monkeypatch.setattr(batch_module, "chunked",
                            lambda rows: parallel.chunked(rows, chunk))
        with AuditStore(db) as store:
            batch_module.run_batch(portfolio, tmp_path / "out.jsonl", DEFAULT_RULESET,
                                   AS_OF, audit=store, commit_every=2,
                                   on_progress=on_progress)
            bodies = [store.body(row) for row in store.iter_rows(
                "SELECT * FROM records WHERE kind = 'decision' ORDER BY seq")]
        lines = [json.loads(line) for line in
                 (tmp_path / "out.jsonl").read_text().splitlines()]
        return lines, bodies

    return run_it


def _referred(lines) -> list[bool]:
    return [any(o["kind"] == "refer" for o in line["overrides"]) for line in lines]


def test_an_override_added_between_two_chunks_is_seen_by_the_next_row(run, tmp_path):
    def after(done):
        if done == 2:  # rows 1 and 2 decided and committed
            _add_override_elsewhere(tmp_path / "audit.db", "C-000001")
            _add_override_elsewhere(tmp_path / "audit.db", "C-000003")

    lines, _ = run(after)
    assert [line["customer_id"] for line in lines][:3] == ["C-000001", "C-000002",
                                                           "C-000003"]
    assert _referred(lines) == [False, False, True, False, False, False]


def test_an_override_added_in_the_middle_of_a_chunk_is_seen_by_the_next_row(
        run, tmp_path, monkeypatch):
    class Writer:
        """Adds an override for the third customer while the second is decided."""

        @hookimpl
        def credit_rules_expert_judgments(self, customer):
            if customer["id"] == "C-000002":
                _add_override_elsewhere(tmp_path / "audit.db", "C-000003")
            return []

    install(monkeypatch, plugins_with(("writer", Writer())))
    lines, _ = run(chunk=500)  # one chunk
    assert _referred(lines) == [False, False, True, False, False, False]


def test_a_setting_changed_between_two_chunks_is_seen_by_the_next_row(
        run, tmp_path, monkeypatch):
    table = tmp_path / "industries.csv"
    table.write_text("code,sector,growth,concentration,risk_class\nA,any,0,0,special\n"
                     "B,any,0,0,special\nC,any,0,0,special\nJ,any,0,0,special\n"
                     "G,any,0,0,special\nM,any,0,0,special\nF,any,0,0,special\n"
                     "H,any,0,0,special\nK,any,0,0,special\nN,any,0,0,special\n")

    def after(done):
        if done == 4:
            monkeypatch.setenv("CREDIT_INDUSTRY_TABLE", str(table))

    _, bodies = run(after)
    classes = [body["enriched"]["indicators.industry.risk_class"]["value"]
               for body in bodies]
    assert classes[4:] == ["special", "special"]
    assert "special" not in classes[:4]


# --- settings.py ---------------------------------------------------------------------------

def test_a_setting_is_read_on_every_call_unless_fixed(monkeypatch):
    monkeypatch.setenv("CREDIT_TEST_SETTING", "one")
    assert settings.setting("CREDIT_TEST_SETTING") == "one"
    monkeypatch.setenv("CREDIT_TEST_SETTING", "two")
    assert settings.setting("CREDIT_TEST_SETTING") == "two"
    with settings.fixed_settings():
        assert settings.setting("CREDIT_TEST_SETTING") == "two"
        monkeypatch.setenv("CREDIT_TEST_SETTING", "three")
        monkeypatch.delenv("CREDIT_TEST_UNSET", raising=False)
        assert settings.setting("CREDIT_TEST_UNSET") is None
        monkeypatch.setenv("CREDIT_TEST_UNSET", "set now")
        assert settings.setting("CREDIT_TEST_SETTING") == "two"
        assert settings.setting("CREDIT_TEST_UNSET") is None  # not set when first asked
        seen_elsewhere = []
        thread = threading.Thread(target=lambda: seen_elsewhere.append(
            settings.setting("CREDIT_TEST_SETTING")))
        thread.start()
        thread.join()
        assert seen_elsewhere == ["three"]  # another thread reads as before
        with settings.fixed_settings():  # nested: fixed anew
            assert settings.setting("CREDIT_TEST_SETTING") == "three"
        assert settings.setting("CREDIT_TEST_SETTING") == "two"
    assert settings.setting("CREDIT_TEST_SETTING") == "three"
    assert settings.setting("CREDIT_TEST_UNSET") == "set now"

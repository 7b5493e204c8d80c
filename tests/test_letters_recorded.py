"""Documents recorded before, and what keeps one document from another: a letter is priced
by the ruleset that took its step, not the one it is written with; a recorded document
whose file is there is not rendered again, so a later edit of the terms or a template
does not fail later runs; a statement's period is part of what makes it once only; ids
differing only in case never name the same file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from engine.audit.store import AuditStore
from engine.dunning.writing import write_statements
from engine.ruleset.loader import load_ruleset
from tests.credit_cli import invoke_credit
from tests.monitor_log import Log, invoice
from tests.test_letters import DEFAULT, own_templates, records, year

pytest.importorskip("durable.engine", reason="durable-rules does not import here")


def dearer(tmp_path: Path) -> Path:
    """A copy of the shipped ruleset whose late-payment margin is 12 points, not 8."""
    folder = own_templates(tmp_path)
    terms = folder / "escalation.yaml"
    text = terms.read_text(encoding="utf-8")
    assert "  margin: 0.08\n" in text
    terms.write_text(text.replace("  margin: 0.08\n", "  margin: 0.12\n"), encoding="utf-8")
    return folder


def test_a_letter_is_priced_by_the_ruleset_that_took_its_step(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)  # the reminder, taken by the shipped ruleset
    folder = dearer(tmp_path)
    assert load_ruleset(folder).hash != default_ruleset.hash
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path, "--ruleset", folder)
    assert result.exit_code == 0, result.output
    [record] = records(log, "letter")
    [action] = [a for a in records(log, "action") if a["action"] == "escalate"]
    assert record["amounts"]["annual_rate"] == "0.1015"  # not 0.1415
    assert record["amounts"]["interest"] == action["details"]["charges"]["interest"]
    assert record["amounts"]["total_due"] == "65189.84"
    assert record["ruleset"]["hash"] == default_ruleset.hash
    text = (tmp_path / "out" / record["file"]).read_text(encoding="utf-8")
    assert "Late-payment interest (10.15% a year" in text


def test_a_later_edit_of_the_terms_does_not_fail_later_runs(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    first = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                          "--db", log.path, "--json")
    [first] = json.loads(first.stdout)
    before = (tmp_path / "out" / first["file"]).read_bytes()
    result = invoke_credit("letters", "--as-of", "2026-02-28", "--out", tmp_path / "out",
                           "--db", log.path, "--ruleset", dearer(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "credit: 0 letters written and recorded as of 2026-02-28 into "
        f"{tmp_path / 'out'}; 1 recorded before")
    assert (tmp_path / "out" / first["file"]).read_bytes() == before
    # and a missing file is rebuilt byte for byte from the step's own terms
    result = invoke_credit("letters", "--as-of", "2026-02-28", "--out", tmp_path / "again",
                           "--db", log.path, "--ruleset", dearer(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again" / first["file"]).read_bytes() == before
    assert len(records(log, "letter")) == 1


def test_a_statement_of_another_period_is_its_own_document(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    monthly = invoke_credit("statements", "--as-of", "2026-02-28", "--out", tmp_path / "out",
                            "--db", log.path)
    assert monthly.exit_code == 0, monthly.output
    kept = (tmp_path / "out" / "2026-02-28-T-STRONG-statement.html").read_bytes()
    longer = invoke_credit("statements", "--as-of", "2026-02-28", "--since", "2026-01-01",
                           "--out", tmp_path / "out", "--db", log.path)
    assert longer.exit_code == 0, longer.output
    assert longer.stderr == ("credit: 1 statement written and recorded as of 2026-02-28 "
                             f"into {tmp_path / 'out'}\n")
    assert (tmp_path / "out" / "2026-02-28-T-STRONG-statement.html").read_bytes() == kept
    text = (tmp_path / "out" / "2026-02-28-T-STRONG-statement-from-2026-01-01.html"
            ).read_text(encoding="utf-8")
    assert "<td>2026-01-20</td>" in text  # January's payment is in this period
    assert [(r["key"], r["amounts"]["payments_since"]) for r in records(log, "statement")] == [
        ("statement:T-STRONG:2026-02-28", "2026-02-01"),
        ("statement:T-STRONG:2026-02-28:since:2026-01-01", "2026-01-01")]
    for since in ("2026-02-01", "2026-01-01"):  # each again: recorded before
        with AuditStore(log.path) as store:
            [item] = write_statements(store, log.ruleset, DEFAULT, dt.date(2026, 2, 28),
                                      tmp_path / "out",
                                      since=dt.date.fromisoformat(since)).documents
        assert item.status == "recorded before"
    assert len(records(log, "statement")) == 2


def test_ids_differing_only_in_case_never_name_the_same_file(tmp_path, default_ruleset):
    for customer in ("C-1", "c-1"):
        log = Log(tmp_path, default_ruleset, customer=customer)
        log.decide()
        log.add(*({**invoice("2026-01-01", "I1", 60000, "2026-01-31"),
                   "id": f"{customer}-E1"},))
    log.monitor("2026-02-06")
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path)
    assert result.exit_code == 0, result.output
    files = sorted(r["file"] for r in records(log, "letter"))
    assert files[0] == "2026-02-06-C-1-reminder.html"  # an upper-case id: as before
    assert files[1] == "2026-02-06-c-1~a6f7ef47-reminder.html"  # sha256("c-1")[:8]
    assert len({name.casefold() for name in files}) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == files

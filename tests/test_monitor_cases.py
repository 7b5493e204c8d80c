"""Account cases in a ruleset's tests (`account:` events, `expect: actions/steps`): how they
are checked, run, counted for coverage, and skipped where durable_rules cannot import."""

from __future__ import annotations

import json
import sys

import pytest

from engine.errors import ProblemsError
from engine.quality.coverage import measure_coverage
from engine.quality.ruleset_cases import load_cases, run_case
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import copy_ruleset

INVOICE = {"type": "invoice_issued", "occurred_at": "2026-01-01", "invoice_id": "I1",
           "amount": 6000, "due_date": "2026-01-31"}


def _cases(tmp_path, *cases: dict):
    folder = copy_ruleset(tmp_path)
    for old in (folder / "tests").glob("*.yaml"):
        old.unlink()
    (folder / "tests" / "cases.yaml").write_text(json.dumps({"cases": list(cases)}))  # JSON is YAML
    return folder


def _account(run_date: str, *events: dict, **standing) -> dict:
    account = {"run_date": run_date, "events": list(events)}
    if standing:
        account["standing"] = standing
    return account


def test_an_account_case_is_checked_where_it_is_written(tmp_path):
    folder = _cases(
        tmp_path,
        {"name": "both", "as_of": "2026-01-01", "account": _account("2026-01-31", INVOICE)},
        {"name": "wrong expectation", "account": _account("2026-01-31", INVOICE),
         "expect": {"grade": "A"}},
        {"name": "bad event", "account": _account(
            "2026-01-31", {**INVOICE, "amount": -5}, {"type": "order_placed"})})
    with pytest.raises(ProblemsError) as caught:
        load_cases(folder)
    lines = [str(problem).split(": ", 1)[1] for problem in caught.value.problems]
    assert lines == [
        "an account case gives its events and run_date only (no given, enriched, position "
        "or as_of)",
        "an account case expects only actions and steps, not grade",
        "account.events[0]/amount: -5 is less than or equal to the minimum of 0",
        "account.events[1]/amount: required property is missing",
        "account.events[1]/occurred_at: required property is missing"]


def test_a_failing_account_case_says_what_differs(tmp_path, credit):
    folder = _cases(tmp_path, {
        "name": "ladder", "account": _account("2026-02-10", INVOICE, grade="BBB",
                                              credit_limit=50000),
        "expect": {"actions": [], "steps": ["letter"]}})
    result = credit("test", str(folder))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].endswith(
        "FAILED ladder: actions: expected [], got [2026-02-10 M_COLLECTIONS_RUN escalate]; "
        "steps: expected [letter], got [reminder]")


def test_events_after_the_run_date_are_not_read_and_order_within_a_day_is_kept(tmp_path):
    later = {**INVOICE, "invoice_id": "I2", "occurred_at": "2026-03-01"}
    folder = _cases(tmp_path, {
        "name": "ladder", "account": _account("2026-02-10", later, INVOICE, grade="BBB",
                                              credit_limit=50000),
        "expect": {"steps": ["reminder"]}})
    ruleset = load_ruleset(folder)
    [case] = load_cases(folder)
    result = run_case(ruleset, case)
    assert result.passed and result.fired == {"M_COLLECTIONS_RUN"}
    coverage = measure_coverage(ruleset, [result])
    hits = {i.id: i.hits for i in coverage.items if i.stage == "monitoring"}
    assert hits["M_COLLECTIONS_RUN"] == 1 and hits["M_BROKEN_PROMISE"] == 0


def test_where_durable_rules_cannot_import_account_cases_are_skipped(tmp_path, monkeypatch, credit):
    monkeypatch.setitem(sys.modules, "durable", None)
    result = credit("test", "rulesets/default")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[-1].endswith("passed, 0 failed, 19 skipped")
    assert lines[-2].startswith("skipped 19 account cases: credit monitor needs durable-rules")

"""The shipped ruleset: its own cases (the same runner as `credit test`), and the example
customers, each of which must come out as its file name says."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from engine.decide.pipeline import decide
from engine.enrich.customer_documents import check_customer
from engine.quality.ruleset_cases import load_cases, run_case
from tests.paths import DEFAULT_RULESET, ROOT

CASES = load_cases(DEFAULT_RULESET)


def test_the_default_ruleset_has_cases_for_every_stage():
    files = {Path(c.location.file).stem for c in CASES}
    assert {"admission", "grading", "policy", "approval"} <= files
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[f"{Path(c.location.file).stem}:{c.name}"
                                            for c in CASES])
def test_ruleset_case(default_ruleset, case):
    result = run_case(default_ruleset, case)
    assert result.differences == []


EXAMPLES = sorted((ROOT / "examples" / "customers").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_customer_matches_its_name(default_ruleset, path):
    doc = check_customer(json.loads(path.read_text()), str(path))
    data = decide(default_ruleset, doc, dt.date(2026, 11, 30)).to_dict()
    label = path.stem.split("-")[0]
    if label in ("accept", "refer", "reject"):
        assert data["admission"]["outcome"] == label
    else:
        assert data["grading"]["grade"] == label.upper()


def test_examples_cover_every_grade_and_outcome(default_ruleset):
    grades, outcomes = set(), set()
    for path in EXAMPLES:
        doc = json.loads(path.read_text())
        data = decide(default_ruleset, doc, dt.date(2026, 11, 30)).to_dict()
        grades.add(data["grading"]["grade"])
        outcomes.add(data["admission"]["outcome"])
    assert grades == set(default_ruleset.grades)
    assert outcomes == {"accept", "refer", "reject"}


def test_credit_test_command_runs_the_same_cases(credit):
    result = credit("test", DEFAULT_RULESET)
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == f"{len(CASES)} passed, 0 failed"


def test_credit_test_reports_a_failing_case(tmp_path, credit):
    import shutil

    copy = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULESET, copy)
    cases = copy / "tests" / "approval.yaml"
    text = cases.read_text()
    cases.write_text(text.replace("required_level: credit_committee",
                                  "required_level: automatic", 1))
    result = credit("test", copy)
    assert result.exit_code == 1
    failures = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert len(failures) == 1
    assert "required_level: expected automatic, got credit_committee" in failures[0]
    assert failures[0].startswith(str(cases) + ":")

"""bench/handwritten_grading.py, the hand-written copy of the default ruleset's grading that
bench_decide.py times the compiled grading against, must give the ruleset's answers: the
bench refuses to run otherwise, and a change of grading.yaml would leave it failing unseen
until someone measures. Compared on generated customers (as the bench does) and on the
ruleset's own cases, which put every floor and cap at its edges."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest

from engine.quality.ruleset_cases import load_cases
from tests.paths import DEFAULT_RULESET, ROOT

AS_OF = dt.date(2026, 11, 30)


def _module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def handwritten_grade():
    return _module(ROOT / "bench" / "handwritten_grading.py").grade


def _disagreements(ruleset, grade, customers):
    """(customer id, ruleset's answer, hand-written answer) for each customer they differ
    on, and the ids of the adjustments that applied to at least one customer."""
    differ, applied = [], set()
    for doc, as_of in customers:
        v = ruleset.extract(doc, as_of)
        ruleset.derive(v, [].append)
        score, band_grade, compiled_grade, adjustments, reasons = ruleset.grading(v, [].append)
        applied.update(a["id"] for a in adjustments if a["applied"])
        compiled = (score, band_grade, compiled_grade, reasons)
        hand = grade(v)
        if hand != compiled:
            differ.append((doc.get("id"), compiled, hand))
    return differ, applied


def test_handwritten_grading_agrees_on_generated_customers(default_ruleset,
                                                           handwritten_grade):
    portfolio = _module(ROOT / "examples" / "generate_portfolio.py")
    customers = ((doc, AS_OF) for doc in portfolio.customers(count=3000, as_of=AS_OF))
    differ, applied = _disagreements(default_ruleset, handwritten_grade, customers)
    assert differ[:3] == [], f"{len(differ)} of 3000 differ"
    assert {"CAP_INSOLVENCY", "CAP_OVER_LEVERAGED", "CAP_YOUNG_BUSINESS"} <= applied


def test_handwritten_grading_agrees_on_the_default_rulesets_cases(default_ruleset,
                                                                  handwritten_grade):
    cases = [(c.given, c.as_of) for c in load_cases(DEFAULT_RULESET) if c.given]
    differ, applied = _disagreements(default_ruleset, handwritten_grade, cases)
    assert differ == []
    # The cases apply every floor and cap of grading.yaml, so each was compared.
    grading = default_ruleset.source.stages["grading"].data
    assert applied == {a["id"] for a in grading["adjustments"]}

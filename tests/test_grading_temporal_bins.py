"""Scorecard range bins over dates and durations: the age of a business (a duration,
``as_of - founded``), the date of the last review, the age of a relationship (years and
months), each at the edges of its bins; overlapping bins, a gap lint finds, and a range
over a text, which stays refused."""

from __future__ import annotations

import copy
import re
import textwrap

import pytest
import yaml

from engine.errors import ProblemsError
from engine.quality.lint import lint_ruleset
from engine.ruleset.loader import load_ruleset
from tests.paths import ROOT
from tests.ruleset_factory import AS_OF, FACTS, build_ruleset, grading_spec, run, trace_entry

BANDS = [{"grade": "A", "score": "[20..)"}, {"grade": "B", "score": "[10..20)"},
         {"grade": "C", "score": "(..10)"}]

# The example of docs/ruleset-language.md ("A range bin takes ... a duration input").
PAGE = (ROOT / "docs" / "ruleset-language.md").read_text(encoding="utf-8")
AGE, = yaml.safe_load(textwrap.dedent(next(
    block for block in re.findall(r"```yaml\n(.*?)```", PAGE, re.S)
    if "id: business_age" in block)))
REVIEW = {"id": "review", "input": "attributes.last_review", "reason": "OLD_REVIEW", "bins": [
    {"range": "(..2025-12-31]", "points": 0},
    {"range": '[date("2026-01-01")..)', "points": 5},
    {"missing": True, "points": 0}]}
RELATIONSHIP = {"id": "relationship", "input": "attributes.customer_for",
                "reason": "NEW_CUSTOMER", "bins": [
                    {"range": "(..P1Y)", "points": 0},
                    {"range": "[P1Y..P5Y6M)", "points": 5},
                    {"range": "[P66M..)", "points": 10},
                    {"missing": True, "points": 0}]}


def folder_with(tmp_path, characteristics):
    facts = copy.deepcopy(FACTS)
    facts["facts"].update({"attributes.last_review": {"type": "date"},
                           "attributes.customer_for": {"type": "years_months_duration"},
                           "attributes.sector_name": {"type": "string"}})
    return build_ruleset(tmp_path, facts=facts, grading=grading_spec(characteristics, BANDS))


def scored(tmp_path, characteristic, values):
    decision = run(load_ruleset(folder_with(tmp_path, [characteristic])), values)
    result = trace_entry(decision, characteristic["id"])["result"]
    return result["bin"], result["points"]


@pytest.mark.parametrize(("founded", "expected"), [
    # the page's three cases first
    ("2025-07-01", ('(..duration("P365D"))', 0)),  # 364 days before 2026-06-30
    ("2025-06-30", ("[P365D..P1825D)", 10)),  # 365 days: on the closed edge
    ("2021-07-01", ("established", 20)),  # 1825 days: on the open edge, the next bin
    ("2021-07-02", ("[P365D..P1825D)", 10)),  # 1824 days
    ("2026-07-01", ('(..duration("P365D"))', 0)),  # founded after as_of: a negative age
    (None, ("missing", 0)),
])
def test_a_duration_input_falls_in_its_bin_at_the_edges(tmp_path, founded, expected):
    assert AS_OF.isoformat() == "2026-06-30"  # as the page says
    assert scored(tmp_path, AGE, {"founded": founded}) == expected


@pytest.mark.parametrize(("review", "expected"), [
    ("2025-12-31", ("(..2025-12-31]", 0)), ("2026-01-01", ('[date("2026-01-01")..)', 5)),
    ("0001-01-01", ("(..2025-12-31]", 0)), (None, ("missing", 0)),
])
def test_a_date_input_falls_in_its_bin_at_the_edges(tmp_path, review, expected):
    assert scored(tmp_path, REVIEW, {"attributes.last_review": review}) == expected


@pytest.mark.parametrize(("customer_for", "expected"), [
    ("P11M", ("(..P1Y)", 0)), ("P12M", ("[P1Y..P5Y6M)", 5)), ("P5Y5M", ("[P1Y..P5Y6M)", 5)),
    ("P5Y6M", ("[P66M..)", 10)),
])
def test_a_years_and_months_input_falls_in_its_bin_at_the_edges(tmp_path, customer_for,
                                                                  expected):
    assert scored(tmp_path, RELATIONSHIP, {"attributes.customer_for": customer_for}) == \
        expected


def test_the_score_adds_the_points_of_temporal_bins(tmp_path):
    ruleset = load_ruleset(folder_with(tmp_path, [AGE, REVIEW, RELATIONSHIP]))
    decision = run(ruleset, {"founded": "2021-07-01", "attributes.last_review": "2026-01-01",
                             "attributes.customer_for": "P1Y"})
    assert (decision.score, decision.to_dict()["grading"]["grade"]) == (30, "A")


def test_overlapping_duration_bins_are_refused_at_the_later_bin(tmp_path):
    age = copy.deepcopy(AGE)
    age["bins"][3]["range"] = "[P1824D..)"
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(folder_with(tmp_path, [age]))
    assert [p.message for p in caught.value.problems] == [
        "range [P1824D..) overlaps bin [P365D..P1825D)"]
    assert caught.value.problems[0].location.line is not None


def test_lint_finds_the_day_two_date_bins_leave_out(tmp_path):
    review = copy.deepcopy(REVIEW)
    review["bins"][0]["range"] = "(..2025-12-31)"
    findings = [f.message for f in lint_ruleset(folder_with(tmp_path, [AGE, review]))
                if f.code == "bins-gap"]
    assert len(findings) == 1 and "2025-12-31" in findings[0], findings


def test_a_range_over_a_text_stays_refused(tmp_path):
    text = {"id": "sector", "input": "attributes.sector_name", "reason": "SECTOR",
            "bins": [{"range": "[a..m)", "points": 5}]}
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(folder_with(tmp_path, [text]))
    assert [p.message for p in caught.value.problems] == [
        "a range bin needs a number, a date, a time or a duration input; "
        "'attributes.sector_name' is string"]

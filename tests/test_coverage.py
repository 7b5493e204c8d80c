"""credit test --coverage: counts checked by hand on a small crafted ruleset, the shipped
ruleset at 100%, escalation (position) cases, and rulesets with no cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.errors import ProblemsError
from engine.quality.coverage import measure_coverage
from engine.quality.ruleset_cases import load_cases, run_case
from engine.ruleset.loader import load_ruleset
from tests.paths import DEFAULT_RULESET
from tests.ruleset_factory import build_ruleset, dump, grading_spec


def case(name: str, share: float | None, *, sanctions: bool = False, **expect) -> dict:
    given = {"id": name.replace(" ", "-"), "flags": {"sanctions_hit": sanctions}}
    if share is not None:
        given["operating"] = {"market_share": share}
    return {"name": name, "as_of": "2026-06-30", "given": given, "expect": expect}


@pytest.fixture
def small(tmp_path) -> Path:
    """The factory's ruleset (KO_SANCTIONS; bins missing, (..0.5), [0.5..); bands A, B, C;
    P_ALL; A_ALL) with three cases: a large share (A), a small share (B) and a sanctions
    hit with a small share (B, rejected, so no policy)."""
    folder = build_ruleset(tmp_path / "small")
    (folder / "tests").mkdir()
    (folder / "tests" / "cases.yaml").write_text(dump({"cases": [
        case("large share", 0.7, grade="A"),
        case("small share", 0.2, grade="B"),
        case("sanctioned", 0.2, sanctions=True, admission="reject")]}))
    return folder


def test_counts_on_a_small_ruleset(small):
    ruleset = load_ruleset(small)
    results = [run_case(ruleset, c) for c in load_cases(small)]
    assert all(r.passed for r in results)
    coverage = measure_coverage(ruleset, results)
    hits = {(i.stage, i.kind, i.id): i.hits for i in coverage.items}
    assert hits == {
        ("admission", "check", "KO_SANCTIONS"): 1,
        ("grading", "bin", "share/(..0.5)"): 2,
        ("grading", "bin", "share/[0.5..)"): 1,
        ("grading", "bin", "share/missing"): 0,
        ("grading", "band", "A"): 1,
        ("grading", "band", "B"): 2,
        ("grading", "band", "C"): 0,
        ("policy", "row", "policy_table/P_ALL"): 2,  # the rejected case gets no policy
        ("approval", "row", "approval_table/A_ALL"): 3,
    }
    assert coverage.cases == 3
    assert [(i.kind, i.id) for i in coverage.missed] == [("bin", "share/missing"),
                                                         ("band", "C")]
    assert coverage.percent == 77.8  # 7 of 9


def test_coverage_text_lists_every_item_and_locates_the_missed(small, credit):
    result = credit("test", small, "--coverage")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "3 passed, 0 failed"
    assert lines[1] == "coverage: 7 of 9 items reached (77.8%) by 3 cases"
    assert lines[2:6] == ["admission", "      1  check    KO_SANCTIONS", "grading",
                          "      0  bin      share/missing"]
    grading = (small / "grading.yaml").read_text().splitlines()
    missing_line = next(n for n, line in enumerate(grading, 1) if "missing: true" in line)
    band_line = next(n for n, line in enumerate(grading, 1) if "grade: C" in line)
    assert lines[-3:] == [
        "not reached by any case (2):",
        f"{small}/grading.yaml:{missing_line}:{grading[missing_line - 1].index('missing') + 1}"
        ": grading: bin share/missing",
        f"{small}/grading.yaml:{band_line}:{grading[band_line - 1].index('grade') + 1}"
        ": grading: band C"]


def test_coverage_as_json(small, credit):
    result = credit("test", small, "--coverage", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["passed"], data["failed"], data["failures"]) == (3, 0, [])
    coverage = data["coverage"]
    assert (coverage["cases"], coverage["total"], coverage["covered"],
            coverage["percent"]) == (3, 9, 7, 77.8)
    assert [m["id"] for m in coverage["missed"]] == ["share/missing", "C"]
    first = coverage["items"][0]
    assert set(first) == {"stage", "kind", "id", "hits", "counted", "location"}


def test_a_failing_case_still_exits_1_with_coverage(small, credit):
    path = small / "tests" / "cases.yaml"
    path.write_text(path.read_text().replace("grade: A", "grade: C"))
    result = credit("test", small, "--coverage")
    assert result.exit_code == 1
    assert "FAILED large share: grade: expected C, got A" in result.stdout
    assert "1 passed" not in result.stdout and "2 passed, 1 failed" in result.stdout
    data = json.loads(credit("test", small, "--json").stdout)
    assert data["failed"] == 1 and "coverage" not in data
    assert data["failures"][0]["differences"] == ["grade: expected C, got A"]


def test_a_value_in_no_bin_and_a_table_with_no_match_are_listed_not_counted(tmp_path, credit):
    folder = build_ruleset(tmp_path / "r", grading=grading_spec(
        [{"id": "share", "input": "operating.market_share", "reason": "S",
          "bins": [{"range": "[0.5..)", "points": 20}]}],
        [{"grade": "A", "score": "[20..)"}, {"grade": "B", "score": "[10..20)"},
         {"grade": "C", "score": "(..10)"}]))
    (folder / "tests").mkdir()
    (folder / "tests" / "cases.yaml").write_text(dump({"cases": [case("small", 0.2)]}))
    result = credit("test", folder, "--coverage")
    assert "      1  no_bin   share  (engine fallback, not counted)" in result.stdout
    assert "coverage: 3 of 7 items reached (42.9%) by 1 cases" in result.stdout


@pytest.mark.parametrize("make_folder", [True, False], ids=["empty tests folder",
                                                           "no tests folder"])
def test_a_ruleset_without_cases(tmp_path, make_folder, credit):
    folder = build_ruleset(tmp_path / "r")
    if make_folder:
        (folder / "tests").mkdir()
    assert load_cases(folder) == []
    result = credit("test", folder, "--coverage")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == ["0 passed, 0 failed",
                                              "coverage: 0 of 9 items reached (0%) by 0 cases"]
    assert result.stderr.strip() == f"credit: error: no test cases in {folder}/tests"
    assert measure_coverage(load_ruleset(folder), []).percent == 0.0


def test_the_shipped_ruleset_reaches_every_item(default_ruleset, credit):
    results = [run_case(default_ruleset, c) for c in load_cases(DEFAULT_RULESET)]
    coverage = measure_coverage(default_ruleset, results)
    assert coverage.missed == []
    assert coverage.percent == 100.0
    kinds = {i.kind for i in coverage.counted}
    assert {"check", "derived", "row", "default", "bin", "band", "cap", "floor",
            "rule"} <= kinds
    assert {i.stage for i in coverage.counted} == {"derived", "admission", "grading",
                                                   "policy", "approval", "escalation",
                                                   "monitoring"}
    result = credit("test", DEFAULT_RULESET, "--coverage")
    assert result.exit_code == 0
    assert "items reached (100%)" in result.stdout
    assert "not reached by any case" not in result.stdout


def test_position_cases_ask_the_escalation_table(tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(DEFAULT_RULESET, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "tests").mkdir()
    (folder / "tests" / "steps.yaml").write_text(dump({"cases": [
        {"name": "reminder", "position": {"days_overdue": 10, "overdue_amount": 100,
                                          "balance": 1000}, "expect": {"step": "reminder"}},
        {"name": "wrong", "position": {"days_overdue": 3, "overdue_amount": 100,
                                       "balance": 1000},
         "expect": {"step": "reminder", "proposed": "reminder"}}]}))
    ruleset = load_ruleset(folder)
    results = [run_case(ruleset, c) for c in load_cases(folder)]
    assert [r.differences for r in results] == [[], ["step: expected reminder, got none"]]
    coverage = measure_coverage(ruleset, results)
    hits = {i.id: i.hits for i in coverage.items if i.stage == "escalation"}
    assert hits["escalation/X_REMINDER"] == 2 and hits["escalation/X_LEGAL"] == 0


def test_a_position_case_takes_no_customer_and_only_step_expectations(tmp_path):
    folder = build_ruleset(tmp_path / "r")
    (folder / "tests").mkdir()
    path = folder / "tests" / "bad.yaml"
    path.write_text(dump({"cases": [
        {"name": "both", "as_of": "2026-06-30", "given": {"id": "C"},
         "position": {"days_overdue": 3}},
        {"name": "grade", "position": {"days_overdue": 3}, "expect": {"grade": "A"}},
        {"name": "step", "as_of": "2026-06-30", "given": {"id": "C"},
         "expect": {"step": "reminder"}},
        {"name": "nothing"}]}))
    with pytest.raises(ProblemsError) as caught:
        load_cases(folder)
    lines = [str(p) for p in caught.value.problems]
    text = path.read_text().splitlines()
    starts = [n for n, line in enumerate(text, 1) if line.startswith("- ")]
    assert lines == [
        f"{path}:{starts[0]}:3: a position case gives no customer (given, enriched)",
        f"{path}:{starts[1]}:3: a position case expects only step and proposed, not grade",
        f"{path}:{starts[2]}:3: expect: step and proposed are for position cases (the "
        "escalation table), not for a customer",
        f"{path}:{starts[3]}:3: a case needs given and as_of (a customer), position (for "
        "the escalation table) or account (events, for the monitoring rules)"]


def test_a_position_case_on_a_ruleset_without_escalation_fails(tmp_path, credit):
    folder = build_ruleset(tmp_path / "r")
    (folder / "tests").mkdir()
    (folder / "tests" / "steps.yaml").write_text(dump({"cases": [
        {"name": "step", "position": {"days_overdue": 30}, "expect": {"step": "letter"}}]}))
    result = credit("test", folder)
    assert result.exit_code == 1
    assert "FAILED step: ruleset test has no escalation.yaml" in result.stdout


def test_a_cap_that_changes_nothing_and_a_missing_derived_fact_are_not_reached(tmp_path):
    from tests.sample_customers import strong_customer

    folder = tmp_path / "r"
    shutil.copytree(DEFAULT_RULESET, folder)
    for old in (folder / "tests").glob("*.yaml"):
        old.unlink()
    weak = strong_customer(**{  # graded BB on its own, with a thin history and no stock
        "credit_history.months_known": 3, "financials.inventory": None,
        "financials.net_income": -500000, "credit_history.overdue_count_12m": 6,
        "credit_history.max_days_overdue_12m": 60, "financials.total_liabilities": 8500000,
        "financials.current_liabilities": 5000000,
        "credit_history.on_time_payment_ratio": 0.6})
    (folder / "tests" / "cases.yaml").write_text(json.dumps({"cases": [
        {"name": "BB already: the cap to A holds but changes nothing", "as_of": "2026-06-30",
         "given": weak, "expect": {"grade": "BB"}}]}))
    ruleset = load_ruleset(folder)
    coverage = measure_coverage(ruleset, [run_case(ruleset, c) for c in load_cases(folder)])
    hits = {(i.kind, i.id): i.hits for i in coverage.items}
    assert hits[("cap", "CAP_THIN_HISTORY")] == 0
    assert hits[("derived", "inventory_turnover")] == 0
    assert hits[("derived", "current_ratio")] == 1

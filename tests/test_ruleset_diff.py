"""credit diff: what changed between two ruleset versions, in sentences, matched by id."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from engine.quality.ruleset_diff import diff_rulesets
from engine.ruleset.source import load_ruleset_source
from tests.paths import DEFAULT_RULESET
from tests.ruleset_factory import (
    FACTS,
    GRADING,
    MANIFEST,
    build_ruleset,
    policy_table,
)


def texts(old: Path, new: Path) -> list[str]:
    return [c.text for c in diff_rulesets(load_ruleset_source(old),
                                          load_ruleset_source(new)).changes]


def pair(tmp_path, old: dict | None = None, new: dict | None = None) -> tuple[Path, Path]:
    return (build_ruleset(tmp_path / "old", **(old or {})),
            build_ruleset(tmp_path / "new", **(new or {})))


def copy_default(tmp_path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(DEFAULT_RULESET, old)
    shutil.copytree(DEFAULT_RULESET, new)
    return old, new


def edit(path: Path, before: str, after: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(before) == 1, before
    path.write_text(text.replace(before, after), encoding="utf-8")


def test_the_same_ruleset_has_no_differences(tmp_path):
    old, new = pair(tmp_path)
    assert texts(old, new) == []


def test_comments_and_layout_are_not_differences(tmp_path):
    old, new = copy_default(tmp_path)
    edit(new / "policy.yaml", "table:\n", "# a comment an analyst added\ntable:\n")
    edit(new / "grading.yaml", "  base_points: 100", "  base_points:   100   # same")
    assert texts(old, new) == []


# --- the default ruleset, one change at a time, the exact sentence ----------------------

def test_a_scorecard_bin_of_the_default_ruleset(tmp_path):
    old, new = copy_default(tmp_path)
    edit(new / "grading.yaml", '{range: "[1.0..1.5)", points: 50}',
         '{range: "[1.0..1.5)", points: 60}')
    result = diff_rulesets(load_ruleset_source(old), load_ruleset_source(new))
    assert [c.text for c in result.changes] == [
        "grading: scorecard characteristic current_ratio: bin [1.0..1.5) points 50 → 60"]
    change = result.changes[0]
    assert change.kind == "changed"
    assert re.fullmatch(r".*/new/grading\.yaml:\d+:\d+", change.where)
    line = int(change.where.split(":")[-2])
    assert "[1.0..1.5)" in (new / "grading.yaml").read_text().splitlines()[line - 1]


def test_a_policy_row_of_the_default_ruleset(tmp_path):
    old, new = copy_default(tmp_path)
    bbb = ("payment_term_days: {}\n        discount_rate: 0.02\n        discount_days: 10\n"
           "        guarantee_required: false\n        review_interval_days: 180\n")
    edit(new / "policy.yaml", bbb.format(45), bbb.format(60))
    assert texts(old, new) == ["policy: table row P_BBB: payment_term_days 45 → 60"]


def test_a_removed_check_and_a_version_of_the_default_ruleset(tmp_path):
    old, new = copy_default(tmp_path)
    edit(new / "ruleset.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    admission = (new / "admission.yaml").read_text()
    start = admission.index("  - id: KO_INSOLVENCY")
    end = admission.index("  - id: REF_PAYMENT_DEFAULT")
    (new / "admission.yaml").write_text(admission[:start] + admission[end:])
    assert texts(old, new) == [
        "manifest: version 1.0.0 → 1.1.0",
        "admission: rule KO_INSOLVENCY removed (reject INSOLVENCY_PROCEEDINGS when "
        "flags.insolvency_proceedings)",
    ]


def test_a_derived_expression_and_a_band_of_the_default_ruleset(tmp_path):
    old, new = copy_default(tmp_path)
    edit(new / "derived.yaml", "expr: financials.total_liabilities / financials.total_assets",
         "expr: financials.total_liabilities / financials.equity")
    edit(new / "grading.yaml", '{grade: BBB, score: "[610..700)"}',
         '{grade: BBB, score: "[620..700)"}')
    edit(new / "grading.yaml", '{grade: BB, score: "[520..610)"}',
         '{grade: BB, score: "[520..620)"}')
    assert texts(old, new) == [
        "derived: debt_ratio: expression financials.total_liabilities / "
        "financials.total_assets → financials.total_liabilities / financials.equity",
        "grading: band BBB: score [610..700) → [620..700)",
        "grading: band BB: score [520..610) → [520..620)",
    ]


def test_a_moved_escalation_row_under_first_hit(tmp_path):
    old, new = copy_default(tmp_path)
    text = (new / "escalation.yaml").read_text()
    visit = "    - {id: X_VISIT, when: {days_overdue: \"> 90\"}, then: {step: on_site_visit}}\n"
    assert visit in text
    text = text.replace(visit, "")
    text = text.replace("    - {id: X_REMINDER", visit + "    - {id: X_REMINDER")
    (new / "escalation.yaml").write_text(text)
    assert texts(old, new) == ["escalation: table row X_VISIT moved from position 10 to 16"]


# --- crafted pairs ----------------------------------------------------------------------

def limit_2000() -> dict:
    return policy_table([{"id": "P_ALL", "then": {"credit_limit": 2000}}],
                        hit_policy="first", inputs=["grade"])


def test_a_policy_limit(tmp_path):
    old, new = pair(tmp_path, new={"policy": limit_2000()})
    assert texts(old, new) == ["policy: table row P_ALL: credit_limit 1000 → 2000"]


def _two_rows(order: list[str], hit_policy: str) -> dict:
    rows = {"P_A": {"id": "P_A", "when": {"grade": "A"}, "then": {"credit_limit": 5000}},
            "P_REST": {"id": "P_REST", "when": {"grade": "not(A)"}}}
    return policy_table([rows[name] for name in order], hit_policy=hit_policy,
                        inputs=["grade"])


def test_order_matters_under_first_hit_only(tmp_path):
    old, new = pair(tmp_path, {"policy": _two_rows(["P_A", "P_REST"], "first")},
                    {"policy": _two_rows(["P_REST", "P_A"], "first")})
    assert texts(old, new) == ["policy: table row P_A moved from position 1 to 2"]
    old, new = pair(tmp_path / "unique", {"policy": _two_rows(["P_A", "P_REST"], "unique")},
                    {"policy": _two_rows(["P_REST", "P_A"], "unique")})
    only = texts(old, new)
    assert len(only) == 1 and "differ only in the order of items" in only[0]


def test_rows_added_removed_and_cells_changed(tmp_path):
    old_policy = policy_table([
        {"id": "P_A", "when": {"grade": "A"}, "then": {"credit_limit": 5000}},
        {"id": "P_B", "when": {"grade": "B"}, "then": {"credit_limit": 3000}},
        {"id": "P_C", "when": {"grade": "C"}, "then": {"credit_limit": 0}},
    ], hit_policy="first", inputs=["grade"])
    new_policy = copy.deepcopy(old_policy)
    rules = new_policy["table"]["rules"]
    rules[0]["when"]["grade"] = "A, B"
    rules[0]["then"]["guarantee_required"] = True
    del rules[1]
    rules.insert(1, {"id": "P_NEW", "when": {"grade": "B"},
                     "then": {**rules[0]["then"], "credit_limit": 2500}})
    old, new = pair(tmp_path, {"policy": old_policy}, {"policy": new_policy})
    assert texts(old, new) == [
        'policy: table row P_A: when grade "A" → "A, B"',
        "policy: table row P_A: guarantee_required false → true",
        'policy: table row P_NEW added (when grade "B" then credit_limit 2500, '
        "payment_term_days 30, discount_rate 0, discount_days 0, guarantee_required true, "
        "review_interval_days 365; at position 2)",
        'policy: table row P_B removed (when grade "B" then credit_limit 3000, '
        "payment_term_days 30, discount_rate 0, discount_days 0, guarantee_required false, "
        "review_interval_days 365)",
    ]


def test_bins_are_matched_by_range(tmp_path):
    grading = copy.deepcopy(GRADING)
    bins = grading["scorecard"]["characteristics"][0]["bins"]
    bins[1] = {"range": "(..0.3)", "points": 10}
    bins.insert(2, {"range": "[0.3..0.5)", "points": 15})
    bins[3]["points"] = 25
    old, new = pair(tmp_path, new={"grading": grading})
    assert texts(old, new) == [
        "grading: scorecard characteristic share: bin (..0.3) added (points 10)",
        "grading: scorecard characteristic share: bin [0.3..0.5) added (points 15)",
        "grading: scorecard characteristic share: bin [0.5..) points 20 → 25",
        "grading: scorecard characteristic share: bin (..0.5) removed (points 10)",
    ]


def test_facts_manifest_and_bands(tmp_path):
    facts = copy.deepcopy(FACTS)
    facts["facts"]["exposure.overdue"] = {"type": "money"}
    facts["facts"]["operating.employees"] = {"type": "number"}
    del facts["facts"]["industry.sector"]
    grading = copy.deepcopy(GRADING)
    grading["bands"] = [{"grade": "A", "score": "[25..)"}, {"grade": "B", "score": "[10..25)"},
                        {"grade": "C", "score": "(..10)"}]
    manifest = {"version": "2.0.0", "rounding": {"places": 0, "mode": "half_up"}}
    old, new = pair(tmp_path, new={"facts": facts, "grading": grading,
                                   "manifest": manifest})
    assert texts(old, new) == [
        "manifest: version 1.0.0 → 2.0.0",
        "manifest: rounding: places 2 → 0",
        "facts: operating.employees: type integer → number",
        "facts: exposure.overdue added (money)",
        "facts: industry.sector removed (string)",
        "grading: band A: score [20..) → [25..)",
        "grading: band B: score [10..20) → [10..25)",
    ]


def test_grades_and_a_new_stage(tmp_path):
    grading = copy.deepcopy(GRADING)
    grading["bands"] = [{"grade": "A", "score": "[20..)"}, {"grade": "B", "score": "[10..20)"},
                        {"grade": "C", "score": "[5..10)"}, {"grade": "D", "score": "(..5)"}]
    derived = {"derived": {"big": "financials.revenue > 1000000"}}
    old, new = pair(tmp_path, new={
        "manifest": {"grades": [*MANIFEST["grades"], "D"]}, "grading": grading,
        "derived": derived})
    assert texts(old, new) == [
        "manifest: grades [A, B, C] → [A, B, C, D]",
        "derived: stage added (derived.yaml)",
        "derived: big added (financials.revenue > 1000000)",
        "grading: band C: score (..10) → [5..10)",
        "grading: band D added (score (..5))",
    ]


# --- the command ------------------------------------------------------------------------

def test_the_command_prints_sentences_and_exits_0(tmp_path, credit):
    old, new = pair(tmp_path, new={"policy": limit_2000()})
    result = credit("diff", old, new)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("test 1.0.0 (") and lines[0].endswith(": 1 difference")
    assert lines[1:] == ["policy: table row P_ALL: credit_limit 1000 → 2000"]
    same = credit("diff", old, old)
    assert same.exit_code == 0 and same.output.rstrip().endswith(": no differences")


def test_the_command_as_json(tmp_path, credit):
    old, new = pair(tmp_path, new={"policy": limit_2000()})
    result = credit("diff", old, new, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["differences"] == 1
    assert data["old"]["name"] == "test" and len(data["new"]["hash"]) == 64
    change = data["changes"][0]
    assert change["stage"] == "policy" and change["kind"] == "changed"
    assert change["text"] == "policy: table row P_ALL: credit_limit 1000 → 2000"
    assert change["where"].startswith(f"{new}/policy.yaml:")


def test_a_missing_folder_is_bad_data_like_everywhere_else(credit):
    result = credit("diff", "/no/such/folder", "rulesets/default")
    assert result.exit_code == 1
    assert result.stderr == "/no/such/folder: not a ruleset folder (no such directory)\n"


@pytest.mark.parametrize("args", [[], ["only-one"], ["a", "b", "--bogus"]])
def test_usage_errors_exit_2_with_one_line(args, tmp_path, credit):
    result = credit("diff", *args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("credit: error: ")


def test_a_broken_ruleset_is_bad_data(tmp_path, credit):
    old, new = pair(tmp_path)
    (new / "policy.yaml").write_text("table: [not, a, table]\n")
    result = credit("diff", old, new)
    assert result.exit_code == 1
    assert "policy.yaml" in result.stderr


def test_monitoring_rules_rule_by_rule_and_pattern_by_pattern(tmp_path):
    old, new = copy_default(tmp_path)
    path = new / "monitoring.yaml"
    edit(path, "remember_days: 400", "remember_days: 365")
    edit(path, "first.day + 180", "first.day + 120")
    edit(path, "    credit_history.max_days_overdue_12m: max_days_late_365\n", "")
    insolvency = "kind == 'insolvency_filing'\"}\n    actions: [hold, regrade, notify]"
    edit(path, insolvency, insolvency.replace("[hold, regrade, notify]", "[hold, notify]"))
    edit(path, "      - {none: hold}\n", "")
    assert texts(old, new) == [
        "monitoring: remember_days 400 → 365",
        "monitoring: re-grade fact: credit_history.max_days_overdue_12m removed (was "
        "max_days_late_365)",
        "monitoring: rule M_THIRD_LATE_PAYMENT pattern third: when days_late > 5 and n > "
        "second.n and day <= first.day + 180 → days_late > 5 and n > second.n and day <= "
        "first.day + 120",
        "monitoring: rule M_INSOLVENCY_FILING: actions [hold, regrade, notify] → [hold, "
        "notify]",
        "monitoring: rule M_ORDER_OVER_LIMIT pattern none hold removed (hold)"]


def test_a_change_of_spacing_only_says_so(tmp_path):
    old, new = copy_default(tmp_path)
    text = (new / "admission.yaml").read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if "when:" in line and " < " in line)
    edit(new / "admission.yaml", first, first.replace(" < ", " <  "))
    changes = texts(old, new)
    assert len(changes) == 1 and changes[0].endswith("(spacing only: the same rule)")

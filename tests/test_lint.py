"""credit lint: one crafted broken ruleset per finding, each checked for its located
message, its severity and the exit code; the shipped ruleset is clean.

Most checks are rows of LINT_CASES: a ruleset (the stages given to build_ruleset, or edits
to a copy of the shipped ruleset), the exit code, and for each finding code the findings
expected, in order. A new check is tested by adding a row; tests of another shape (JSON
output, the Python API, usage errors, findings picked out of many) follow the table."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.quality.lint import lint_ruleset
from tests.audit_helpers import copy_ruleset
from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET
from tests.ruleset_factory import (
    FACTS,
    build_ruleset,
    dump,
    grading_spec,
    policy_table,
    table,
)

BANDS = [{"grade": "A", "score": "[20..)"}, {"grade": "B", "score": "[10..20)"},
         {"grade": "C", "score": "(..10)"}]
BAND_B = "'[10..20)'"  # as the band's score is written in grading.yaml
SIZE_CHECK = {"checks": [{"id": "R_SIZE", "when": "size > 1", "outcome": "refer",
                          "reason": "SIZE"}]}


def lint(folder: Path, *args: str):
    """``credit lint FOLDER ARGS``: the result, and its lines: the findings (on standard
    error, as problems in files are) then the count (on standard output)."""
    result = invoke_credit("lint", folder, *args)
    return result, result.stderr.splitlines() + result.stdout.splitlines()


def where(path: Path, needle: str, occurrence: int = 1) -> str:
    """FILE:LINE:COL of the n-th line holding ``needle``, at the needle."""
    seen = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return f"{path}:{number}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {path}")


def value_at(path: Path, line_needle: str, value: str) -> str:
    """FILE:LINE:COL of ``value`` on the line holding ``line_needle``."""
    file, line, column = where(path, line_needle).rsplit(":", 2)
    return f"{file}:{line}:{int(column) + line_needle.index(value)}"


def findings(lines: list[str], code: str) -> list[str]:
    """The output lines of the findings with ``code``."""
    return [line for line in lines if line.endswith(f"[{code}]")]


def lint_api_lines(folder: Path) -> list[str]:
    """The findings of ``folder`` through the Python API, as credit lint prints them."""
    return [str(finding) for finding in lint_ruleset(folder)]


# --- ruleset pieces -----------------------------------------------------------------------

def derived_size_table(rules: list, hit_policy: str, **extra) -> dict:
    """A derived fact `size` from a table over the market share."""
    return {"derived": {"size": {"table": table(
        rules, inputs=[{"name": "share", "expr": "operating.market_share"}],
        hit_policy=hit_policy, **extra)}}}


def characteristic(bins: list, input_name: str = "operating.market_share") -> dict:
    """A scorecard characteristic ``c`` over ``input_name`` with ``bins``."""
    return {"id": "c", "input": input_name, "reason": "WEAK", "bins": bins}


def facts_listing(fact: str, values: list[str]) -> dict:
    """The factory's facts.yaml with ``values`` declared for ``fact``."""
    facts = copy.deepcopy(FACTS)
    facts["facts"][fact]["values"] = values
    return facts


# Scores can be 0 or 20 only: band B [10..20) is never reached by the scorecard.
SCORES_0_OR_20 = [characteristic([
    {"missing": True, "points": 0}, {"range": "(..0.5)", "points": 0},
    {"range": "[0.5..)", "points": 20}])]


# --- the table of cases -------------------------------------------------------------------

@dataclass(frozen=True)
class Expected:
    """A finding a case expects: its severity, its message (without the code), and where it
    points: the first line of ``file`` holding ``needle``, at the needle, or at ``value``
    on that line when one is given."""

    severity: str
    file: str
    needle: str
    message: str
    value: str | None = None

    def line(self, folder: Path, code: str) -> str:
        """The line credit lint prints for this finding of ``code`` in ``folder``."""
        path = folder / self.file
        at = (value_at(path, self.needle, self.value) if self.value
              else where(path, self.needle))
        return f"{at}: {self.severity}: {self.message} [{code}]"


def error(file: str, needle: str, message: str, value: str | None = None) -> Expected:
    """An expected finding of severity error (see Expected)."""
    return Expected("error", file, needle, message, value)


def warning(file: str, needle: str, message: str, value: str | None = None) -> Expected:
    """An expected finding of severity warning (see Expected)."""
    return Expected("warning", file, needle, message, value)


@dataclass(frozen=True)
class ShippedEdited:
    """A copy of the shipped ruleset with the text edits ``before -> after`` made in
    ``file``."""

    file: str
    edits: Mapping[str, str]

    def write(self, tmp_path: Path) -> Path:
        """The edited copy written into ``tmp_path``; returns its folder."""
        folder = copy_ruleset(tmp_path)
        path = folder / self.file
        text = path.read_text(encoding="utf-8")
        for before, after in self.edits.items():
            assert before in text, f"{before!r} not in {path}"
            text = text.replace(before, after)
        path.write_text(text, encoding="utf-8")
        return folder


@dataclass(frozen=True)
class LintCase:
    """A ruleset (build_ruleset's stages, or a ShippedEdited), the exit code of credit lint
    on it (None: not checked), and by finding code the findings it must print, in order
    (an empty list: none of that code). ``summary_starts``, when given, is how the last
    line (the counts) starts."""

    ruleset: Mapping | ShippedEdited
    exit_code: int | None
    findings: Mapping[str, list[Expected]]
    summary_starts: str | None = None

    def write(self, tmp_path: Path) -> Path:
        """The ruleset written into ``tmp_path``; returns its folder."""
        if isinstance(self.ruleset, ShippedEdited):
            return self.ruleset.write(tmp_path)
        return build_ruleset(tmp_path, **self.ruleset)


def lint_case(case_id: str, ruleset: Mapping | ShippedEdited, exit_code: int | None,
              findings: Mapping[str, list[Expected]], **options):
    """A row of LINT_CASES: a LintCase under the test id ``case_id``."""
    return pytest.param(LintCase(ruleset, exit_code, findings, **options), id=case_id)


LINT_CASES = [
    # --- row-shadowed: a table row that can never fire
    lint_case(
        "a-rule-after-a-catch-all-under-first-hit-can-never-fire",
        {"policy": policy_table([{"id": "P_EVERYONE"}, {"id": "P_A", "when": {"grade": "A"}}],
                                inputs=["grade"], hit_policy="first")},
        1, {"row-shadowed": [error(
            "policy.yaml", "id: P_A", "rule P_A can never fire: every input it matches is "
            "taken first by rule P_EVERYONE (hit policy first)")]},
        summary_starts="1 error, "),
    lint_case(
        "a-rule-covered-by-several-earlier-rules-together-is-shadowed",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "SMALL", "when": {"share": "(..0.5)"}, "then": {"out": 1}},
            {"id": "LARGE", "when": {"share": "[0.5..)"}, "then": {"out": 2}},
            {"id": "MIDDLE", "when": {"share": "[0.2..0.8]"}, "then": {"out": 3}}], "first")},
        1, {"row-shadowed": [error(
            "derived.yaml", "id: MIDDLE", "rule MIDDLE can never fire: every input it "
            "matches is taken first by rules SMALL, LARGE (hit policy first)")]}),
    lint_case(
        "a-rule-that-still-fires-for-some-input-is-not-shadowed",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "SMALL", "when": {"share": "(..0.5)"}, "then": {"out": 1}},
            {"id": "MIDDLE", "when": {"share": "[0.2..0.8]"}, "then": {"out": 3}},
            {"id": "REST", "then": {"out": 2}}], "first")},
        0, {"row-shadowed": [], "table-gap": []}),
    lint_case(
        "priority-order-decides-what-is-shadowed",
        {"approval": {"levels": ["automatic", "manager"], "table": table(
            [{"id": "A_C_AUTOMATIC", "when": {"grade": "C"},
              "then": {"required_level": "automatic"}},
             {"id": "A_ALL_MANAGER", "then": {"required_level": "manager"}}],
            inputs=["grade"], hit_policy="priority", table_id="approval_table",
            outputs=[{"name": "required_level", "type": "string",
                      "priority": ["manager", "automatic"]}])}},
        1, {"row-shadowed": [error(
            "approval.yaml", "id: A_C_AUTOMATIC", "rule A_C_AUTOMATIC can never fire: every "
            "input it matches is taken first by rule A_ALL_MANAGER, tried before it in "
            "priority order (hit policy priority)")]}),

    lint_case(
        "priority-order-of-a-number-output-decides-what-is-shadowed",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "SMALL", "when": {"share": "(..0.5)"}, "then": {"out": 30}},
            {"id": "ANY", "then": {"out": 60}}], "priority",
            outputs=[{"name": "out", "type": "integer", "values": [60, 30]}])},
        1, {"row-shadowed": [error(
            "derived.yaml", "id: SMALL", "rule SMALL can never fire: every input it matches "
            "is taken first by rule ANY, tried before it in priority order (hit policy "
            "priority)")]}),

    # --- rows-overlap: two rows matching the same input where only one may
    lint_case(
        "rules-that-overlap-under-unique-are-an-error",
        {"policy": policy_table(
            [{"id": "P_AB", "when": {"grade": "A, B"}}, {"id": "P_B", "when": {"grade": "B"}},
             {"id": "P_C", "when": {"grade": "C"}}], inputs=["grade"])},
        1, {"rows-overlap": [error(
            "policy.yaml", "id: P_B", "rules P_AB and P_B both match under hit policy "
            "unique when grade is B: a decision reaching them fails")]}),
    lint_case(
        "numeric-overlap-names-a-shared-value",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "LOW", "when": {"share": "[0..0.5]"}, "then": {"out": 1}},
            {"id": "HIGH", "when": {"share": "[0.5..1]"}, "then": {"out": 2}}], "unique")},
        1, {"rows-overlap": [error(
            "derived.yaml", "id: HIGH", "rules LOW and HIGH both match under hit policy "
            "unique when share is 0.5: a decision reaching them fails")]}),
    lint_case(
        "overlap-under-any-with-the-same-outputs-is-no-finding",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "LOW", "when": {"share": "<= 0.5"}, "then": {"out": 1}},
            {"id": "HIGH", "when": {"share": ">= 0.5"}, "then": {"out": 1}}], "any")},
        0, {"rows-overlap": []}),
    lint_case(
        "overlap-under-any-with-different-outputs-is-an-error",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "LOW", "when": {"share": "<= 0.5"}, "then": {"out": 1}},
            {"id": "HIGH", "when": {"share": ">= 0.5"}, "then": {"out": 2}}], "any")},
        1, {"rows-overlap": [error(
            "derived.yaml", "id: HIGH", "rules LOW and HIGH both match with different "
            "outputs under hit policy any when share is 0.5: a decision reaching them "
            "fails")]}),

    # --- table-gap: inputs no row matches, in a table without a default (a warning)
    lint_case(
        "a-grade-no-policy-rule-matches-is-a-gap",
        {"policy": policy_table(
            [{"id": "P_A", "when": {"grade": "A"}}, {"id": "P_B", "when": {"grade": "B"}}],
            inputs=["grade"])},
        0, {"table-gap": [warning(
            "policy.yaml", "rules:", "table policy_table: no rule matches when grade is C "
            "(the table has no default, so its outputs are missing)")]}),
    # operating.market_share is 0..1 in the customer schema: nothing below 0 or above 1.
    lint_case(
        "a-numeric-gap-is-given-as-a-range-within-the-fields-bounds",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "SMALL", "when": {"share": "(..0.3)"}, "then": {"out": 1}},
            {"id": "LARGE", "when": {"share": "[0.5..)"}, "then": {"out": 2}}], "unique")},
        0, {"table-gap": [warning(
            "derived.yaml", "rules:", "table t: no rule matches when share is [0.3..0.5) "
            "(the table has no default, so its outputs are missing)")]}),
    lint_case(
        "a-table-with-a-default-has-no-gap",
        {"admission": SIZE_CHECK, "derived": derived_size_table([
            {"id": "SMALL", "when": {"share": "(..0.3)"}, "then": {"out": 1}}], "first",
            default={"out": 0})},
        0, {"table-gap": []}),
    # facts.yaml's values are for information: nothing refuses another sector, so a row
    # for one is not dead, and a table naming only the declared ones has a gap.
    lint_case(
        "values-declared-in-facts-yaml-do-not-close-the-list",
        {"facts": facts_listing("industry.sector", ["retail", "wholesale"]),
         "admission": SIZE_CHECK,
         "derived": {"derived": {"size": {"table": table(
             [{"id": "RETAIL", "when": {"sector": "retail"}, "then": {"out": 1}},
              {"id": "EXPORT", "when": {"sector": "export"}, "then": {"out": 2}}],
             hit_policy="unique", inputs=[{"name": "sector", "expr": "industry.sector"}],
             outputs=[{"name": "out", "type": "integer"}])}}}},
        0, {"row-never-matches": [], "table-gap": [warning(
            "derived.yaml", "rules:", "table t: no rule matches when sector is wholesale, "
            "any other value (the table has no default, so its outputs are missing)")]}),

    # --- row-never-matches: a cell no value of its input can match (a grade that is not
    # one is validate's error now; the customer schema closes industry.risk_class)
    lint_case(
        "a-cell-no-value-can-match-is-an-error",
        {"policy": policy_table(
            [{"id": "P_TYPO", "when": {"industry.risk_class": "extreme"}},
             {"id": "P_ALL", "when": {"grade": "A, B, C"}}],
            inputs=["grade", "industry.risk_class"])},
        1, {"row-never-matches": [error(
            "policy.yaml", "extreme", "rule P_TYPO can never fire: no value of "
            "industry.risk_class matches 'extreme'")]}),

    # --- bins-gap and bin-never-matches: the scorecard's bins
    lint_case(
        "scorecard-values-no-bin-takes-are-a-warning",
        {"grading": grading_spec([characteristic([
            {"range": "(..0.5)", "points": 10}, {"range": "[0.6..)", "points": 20}])], BANDS)},
        0, {"bins-gap": [warning(
            "grading.yaml", "bins:", "characteristic c: no bin takes [0.5..0.6) and a "
            "missing value (0 points; add a bin, or an else bin)")]}),
    # overdue_count_12m is a whole number >= 0: {0}, [1..3), [3..) leave nothing out.
    lint_case(
        "whole-number-bins-need-cover-only-whole-numbers-within-bounds",
        {"grading": grading_spec([characteristic([
            {"missing": True, "points": 0}, {"values": [0], "points": 20},
            {"range": "[1..3)", "points": 10}, {"range": "[3..)", "points": 0}],
            "credit_history.overdue_count_12m")], BANDS)},
        0, {"bins-gap": [], "grade-unreachable": []}),
    # (Scores are 0 or 20 here, so grade B is unreachable: lint exits 1 for that.)
    lint_case(
        "an-else-bin-covers-everything",
        {"grading": grading_spec([characteristic([
            {"range": "[0.6..)", "points": 20}, {"else": True, "points": 0}])], BANDS)},
        None, {"bins-gap": []}),
    # overdue_count_12m is a whole number >= 0: {0} comes after (..3), which takes 0 first;
    # and market_share is 0..1, so (..-1) takes nothing.
    lint_case(
        "a-bin-no-value-can-fall-in-is-an-error",
        {"grading": grading_spec([
            characteristic([{"range": "(..3)", "points": 10}, {"values": [0], "points": 80},
                            {"range": "[3..)", "points": 0}, {"missing": True, "points": 0}],
                           "credit_history.overdue_count_12m"),
            {**characteristic([{"range": "(..-1)", "points": 5}, {"else": True, "points": 0}]),
             "id": "share"}], BANDS)},
        1, {"bin-never-matches": [
            error("grading.yaml", "values:", "characteristic c: bin 0 can never be taken: "
                  "the bins before it take every value it would"),
            error("grading.yaml", "range: (..-1)", "characteristic share: bin (..-1) can "
                  "never be taken: no value the input can take falls in it")]}),

    # --- grade-unreachable and band-unreachable: bands the scorecard never reaches
    lint_case(
        "a-band-between-two-reachable-scores-is-an-unreachable-grade",
        {"grading": grading_spec(SCORES_0_OR_20, BANDS)},
        1, {"grade-unreachable": [error(
            "grading.yaml", BAND_B, "grade B can never be given: no score the scorecard can "
            "give falls in [10..20) (nearest scores: 0 below, 20 above), and no cap or floor "
            "gives it")]}),
    # 0.1 + 0.7 is 0.8 and 0.1 + 0.2 is 0.3, exactly (as floats, 0.7999... and
    # 0.30000000000000004 would leave band A unreached): every band is reached.
    lint_case(
        "fractional-points-reach-a-band-on-its-edge",
        {"grading": grading_spec([characteristic([
            {"range": "(..0.5)", "points": 0.7}, {"range": "[0.5..)", "points": 0.2},
            {"missing": True, "points": 0}])], [
            {"grade": "A", "score": "[0.8..)"}, {"grade": "B", "score": "[0.3..0.8)"},
            {"grade": "C", "score": "(..0.3)"}], base_points=0.1)},
        0, {"grade-unreachable": [], "band-unreachable": []}),
    lint_case(
        "a-band-only-a-floor-reaches-is-a-warning",
        {"grading": grading_spec(SCORES_0_OR_20, BANDS, adjustments=[
            {"id": "FLOOR_GUARANTEE", "when": "flags.parent_guarantee", "at_least": "B",
             "reason": "GUARANTEE"}])},
        0, {"band-unreachable": [warning(
            "grading.yaml", BAND_B, "band B: no score the scorecard can give falls in "
            "[10..20) (nearest scores: 0 below, 20 above); the grade is given only by "
            "FLOOR_GUARANTEE")]}),

    # --- policy-wrong-way: a worse grade getting more than a better one
    # 'share' is exact (a number the ruleset wrote times a whole number): probed as the
    # decision computes it, at 0.5 too, where only arithmetic with 0.5 shows grade B ahead.
    lint_case(
        "an-exact-derived-fact-is-probed-as-an-exact-number",
        {"derived": {"derived": {"share": "operating.employees * 0.5"}},
         "policy": policy_table([
             {"id": "P_A", "when": {"grade": "A"}, "then": {"credit_limit": 1000}},
             {"id": "P_B", "when": {"grade": "B"}, "then": {
                 "credit_limit": "5000 if share * 0.5 > 0.2 and share < 1 else 0"}},
             {"id": "P_C", "when": {"grade": "C"}, "then": {"credit_limit": 0}}],
             inputs=["grade"])},
        1, {"policy-wrong-way": [error(
            "policy.yaml", "5000 if share", "grade B gets a larger credit limit "
            "(5000.00) than the better grade A (1000.00) (for share = 0.5): a worse grade "
            "should not get more")]}),
    lint_case(
        "a-worse-grade-getting-more-is-an-error",
        {"policy": policy_table([
            {"id": "P_A", "when": {"grade": "A"}, "then": {
                "payment_term_days": 30, "credit_limit": "financials.revenue * 0.1",
                "guarantee_required": True}},
            {"id": "P_B", "when": {"grade": "B"}, "then": {
                "payment_term_days": 60, "credit_limit": "financials.revenue * 0.2",
                "guarantee_required": True}},
            {"id": "P_C", "when": {"grade": "C"}, "then": {
                "payment_term_days": 0, "credit_limit": 0, "guarantee_required": False}}],
            inputs=["grade"])},
        1, {"policy-wrong-way": [
            error("policy.yaml", "financials.revenue * 0.2", "grade B gets a larger credit "
                  "limit (200000.00) than the better grade A (100000.00) (for "
                  "financials.revenue = 1000000): a worse grade should not get more"),
            error("policy.yaml", "payment_term_days: 60", "grade B gets a longer payment "
                  "term (60) than the better grade A (30): a worse grade should not get "
                  "more", value="60"),
            error("policy.yaml", "guarantee_required: false", "grade C gets no guarantee "
                  "where the better grade B needs one: a worse grade should not get more",
                  value="false")]}),
    # The B row for guaranteed customers is reached only when flags.parent_guarantee is
    # true: the check tries true, false and missing for the true/false facts a row reads.
    lint_case(
        "a-worse-grade-getting-more-only-with-a-guarantee-is-found",
        {"policy": policy_table([
            {"id": "P_A", "when": {"grade": "A"}, "then": {"credit_limit": 50000}},
            {"id": "P_B_GUARANTEED", "when": {"grade": "B", "guaranteed": "true"},
             "then": {"credit_limit": 90000}},
            {"id": "P_B", "when": {"grade": "B"}, "then": {"credit_limit": 20000}},
            {"id": "P_C", "when": {"grade": "C"}, "then": {"credit_limit": 0}}],
            hit_policy="first",
            inputs=["grade", {"name": "guaranteed", "expr": "flags.parent_guarantee"}])},
        1, {"policy-wrong-way": [error(
            "policy.yaml", "credit_limit: 90000", "grade B gets a larger credit limit "
            "(90000.00) than the better grade A (50000.00): a worse grade should not get "
            "more", value="90000")]}),

    # A worse grade on credit terms offered a smaller cash discount, or a shorter window to
    # earn it: B's discount equal to A's is fine, C's one step smaller is an error.
    lint_case(
        "a-worse-grade-offered-a-smaller-cash-discount-is-an-error",
        {"policy": policy_table([
            {"id": "P_A", "when": {"grade": "A"}, "then": {
                "discount_rate": 0.02, "discount_days": 10}},
            {"id": "P_B", "when": {"grade": "B"}, "then": {
                "discount_rate": 0.02, "discount_days": 10}},
            {"id": "P_C", "when": {"grade": "C"}, "then": {
                "discount_rate": 0.019, "discount_days": 10}}],
            inputs=["grade"])},
        1, {"policy-wrong-way": [error(
            "policy.yaml", "discount_rate: 0.019", "grade C gets a smaller cash discount "
            "(0.019) than the better grade B (0.02): a worse grade on credit terms should be "
            "offered at least the same incentive to pay early", value="0.019")]}),
    # A window one day shorter is an error; a grade paying in advance (term 0) needs no
    # discount; a window beside no discount at all is not compared.
    lint_case(
        "a-shorter-discount-window-is-an-error-cash-in-advance-needs-none",
        {"policy": policy_table([
            {"id": "P_A", "when": {"grade": "A"}, "then": {
                "discount_rate": 0.02, "discount_days": 10}},
            {"id": "P_B", "when": {"grade": "B"}, "then": {
                "discount_rate": 0.02, "discount_days": 9}},
            {"id": "P_C", "when": {"grade": "C"}, "then": {
                "payment_term_days": 0, "credit_limit": 0, "discount_rate": 0,
                "discount_days": 0}}],
            inputs=["grade"])},
        1, {"policy-wrong-way": [error(
            "policy.yaml", "discount_days: 9", "grade B gets a shorter cash discount window "
            "(9 days) than the better grade A (10 days): a worse grade on credit terms should be "
            "offered at least the same incentive to pay early", value="9")]}),

    # --- window-forgotten and before-hold: the monitoring rules of the shipped ruleset
    lint_case(
        "monitoring-windows-longer-than-memory-and-acting-before-a-hold-are-warnings",
        ShippedEdited("monitoring.yaml", {
            "remember_days: 400": "remember_days: 150",
            'when: "n > hold.n and overdue_after == 0': 'when: "overdue_after == 0'}),
        0, {"window-forgotten": [warning(
                "monitoring.yaml", '"days_late > 5 and n > second.n and day',
                "M_THIRD_LATE_PAYMENT looks 180 days back, but signals are forgotten after "
                "remember_days (150)")],
            "before-hold": [warning(
                "monitoring.yaml", '"overdue_after == 0 and headroom',
                "M_HOLD_RELEASED: a payment_received remembered from before the hold "
                "matches as soon as the hold arrives; add n > hold.n")]}),
]


@pytest.mark.parametrize("case", LINT_CASES)
def test_lint_prints_the_expected_findings(case, tmp_path):
    folder = case.write(tmp_path)
    result, lines = lint(folder)
    if case.exit_code is not None:
        assert result.exit_code == case.exit_code, result.output
    for code, expected in case.findings.items():
        assert findings(lines, code) == [finding.line(folder, code) for finding in expected]
    if case.summary_starts is not None:
        assert lines[-1].startswith(case.summary_starts)


# --- tests of another shape ---------------------------------------------------------------

def test_the_shipped_ruleset_is_clean():
    result, lines = lint(DEFAULT_RULESET)
    assert result.exit_code == 0
    assert lines == ["0 errors, 0 warnings"]


def test_a_declared_fact_no_rule_reads_is_a_warning(tmp_path):
    folder = build_ruleset(tmp_path)
    result, lines = lint(folder)
    assert result.exit_code == 0
    assert f"{where(folder / 'facts.yaml', 'founded:')}: warning: fact 'founded' is declared " \
           "but no rule reads it [fact-unused]" in lines
    read = ("flags.sanctions_hit", "operating.market_share")
    assert not any(f"'{name}'" in line for line in lines for name in read)


def test_a_derived_fact_and_a_plugin_value_no_rule_reads_are_warnings(tmp_path):
    enrichment = {"indicators": {"ratings": {"values": {
        "score": {"type": "number"}, "unused": {"type": "number"}}}}}
    folder = build_ruleset(
        tmp_path, derived={"derived": {"spare": "financials.revenue * 2"}},
        admission={"checks": [{"id": "R", "when": "indicators.ratings.score > 1",
                               "outcome": "refer", "reason": "R"}]},
        extra_files={"enrichment.yaml": dump(enrichment)},
        manifest={"stages": {"facts": "facts.yaml", "enrichment": "enrichment.yaml",
                             "derived": "derived.yaml", "admission": "admission.yaml",
                             "grading": "grading.yaml", "policy": "policy.yaml",
                             "approval": "approval.yaml"}})
    result, lines = lint(folder)
    assert result.exit_code == 0
    assert findings(lines, "derived-unused") == [
        f"{where(folder / 'derived.yaml', 'spare:')}: warning: derived fact 'spare' is "
        "computed but no rule reads it [derived-unused]"]
    unused = [line for line in findings(lines, "fact-unused") if "indicators." in line]
    assert unused == [f"{where(folder / 'enrichment.yaml', 'unused:')}: warning: "
                      "'indicators.ratings.unused' is declared for a plugin to add but no "
                      "rule reads it [fact-unused]"]


def test_a_fact_read_but_not_declared_is_an_error(tmp_path):
    folder = build_ruleset(tmp_path, admission={"checks": [
        {"id": "R", "when": "financials.ebitda > 1", "outcome": "refer", "reason": "R"}]})
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert lines[0].startswith(f"{where(folder / 'admission.yaml', 'financials.ebitda')}: "
                               "error: unknown field 'financials.ebitda'")
    assert lines[0].endswith("[fact-undeclared]")
    assert lines[-1] == "1 error, 0 warnings"


def test_json_output_and_exit_codes(tmp_path):
    folder = build_ruleset(tmp_path, policy=policy_table(
        [{"id": "P_EVERYONE"}, {"id": "P_A", "when": {"grade": "A"}}], inputs=["grade"],
        hit_policy="first"))
    result, _ = lint(folder, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["errors"] == 1 and data["warnings"] == len(data["findings"]) - 1
    error = next(f for f in data["findings"] if f["severity"] == "error")
    assert error["code"] == "row-shadowed"
    assert error["location"] == where(folder / "policy.yaml", "id: P_A")
    assert error["file"] == str(folder / "policy.yaml") and error["line"] > 0


def test_lint_api_and_usage_errors(tmp_path, credit):
    assert lint_ruleset(DEFAULT_RULESET) == []
    result = credit("lint", tmp_path / "nothing")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"{tmp_path}/nothing: not a ruleset folder (no such directory)\n"
    result = credit("lint", "--bogus")
    assert result.exit_code == 2


def test_a_table_too_large_for_the_gap_check_says_so(tmp_path, monkeypatch):
    from engine.quality import lint_tables

    monkeypatch.setattr(lint_tables, "MAX_COMBINATIONS", 2)  # instead of a huge table
    folder = build_ruleset(tmp_path, policy=policy_table(
        [{"id": "P_A", "when": {"grade": "A"}}, {"id": "P_B", "when": {"grade": "B"}}],
        inputs=["grade"]))
    assert f"{where(folder / 'policy.yaml', 'rules:')}: warning: table policy_table: its " \
        "inputs make 3 combinations, more than the 2 lint checks for gaps: give it a " \
        "default, or check it with test cases [table-unchecked]" in findings(
            lint_api_lines(folder), "table-unchecked")


def test_a_folder_that_is_not_a_ruleset_is_one_line_on_stderr(tmp_path):
    result = invoke_credit("lint", tmp_path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"{tmp_path}: not a ruleset folder (no ruleset.yaml in it)\n"


# --- approval-above-authority: approval.yaml's routing against authority.yaml's max_limit

def shipped_with(tmp_path: Path, file: str, edits: Mapping[str, str]) -> Path:
    """A copy of the shipped ruleset with ``edits`` made in ``file``."""
    return ShippedEdited(file, edits).write(tmp_path)


def test_a_level_signing_a_limit_its_role_may_not_set_is_an_error(tmp_path):
    # The analyst may set 50,000: A_ANALYST_LIMIT's 50,000.01 is a cent too much, while
    # exactly 50,000 approved automatically (A_AUTOMATIC) is within it.
    folder = shipped_with(tmp_path, "authority.yaml", {
        "max_limit: 100000,": "max_limit: 50000,"})
    result, lines = lint(folder)
    assert result.exit_code == 1
    authority = value_at(folder / "authority.yaml",
                         "{name: credit_analyst, max_notches: 1, max_limit: 50000", "50000")
    row = value_at(folder / "approval.yaml", "then: {required_level: credit_analyst}}",
                   "credit_analyst}")
    assert findings(lines, "approval-above-authority") == [
        f"{row}: error: rule A_ANALYST_LIMIT sends a credit limit of 50000.01 to "
        f"credit_analyst, who may set at most 50000 (max_limit at {authority}; for admission "
        "accept, grade AAA): a level must not approve more than its role may set "
        "[approval-above-authority]"]


def test_automatic_approval_above_the_lowest_roles_limit_is_an_error(tmp_path):
    # With the manager's band starting a cent above 100,000, a limit of 100,000.01 matches
    # no limit row: accepted, it is approved automatically, and referred, it goes to an
    # analyst: each one cent above what an analyst may set. 100,000 itself goes to the
    # analyst, who may set exactly that.
    folder = shipped_with(tmp_path, "approval.yaml", {
        '"(100000..1000000]"': '"(100000.01..1000000]"'})
    result, lines = lint(folder)
    assert result.exit_code == 1
    authority = value_at(folder / "authority.yaml",
                         "{name: credit_analyst, max_notches: 1, max_limit: 100000", "100000")
    row = value_at(folder / "approval.yaml", "then: {required_level: automatic}}",
                   "automatic}")
    refer = value_at(folder / "approval.yaml", "{admission_outcome: refer}, then: "
                     "{required_level: credit_analyst}}", "credit_analyst}}")
    assert findings(lines, "approval-above-authority") == [
        f"{refer}: error: rule A_ANALYST_REFER sends a credit limit of 100000.01 to "
        f"credit_analyst, who may set at most 100000 (max_limit at {authority}; for "
        "admission refer, grade AAA): a level must not approve more than its role may set "
        "[approval-above-authority]",
        f"{row}: error: rule A_AUTOMATIC approves automatically a credit limit of 100000.01, "
        f"above the 100000 the lowest role, credit_analyst, may set (max_limit at "
        f"{authority}; for admission accept, grade AAA): a level must not approve more "
        "than its role may set [approval-above-authority]"]

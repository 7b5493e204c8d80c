"""credit lint: one crafted broken ruleset per finding, each checked for its located
message, its severity and the exit code; the shipped ruleset is clean."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from engine.cli.main import cli
from engine.quality.lint import lint_ruleset
from tests.audit_helpers import copy_ruleset
from tests.ruleset_factory import build_ruleset, dump, grading_spec, policy_table, table

ROOT = Path(__file__).resolve().parent.parent
BANDS = [{"grade": "A", "score": "[20..)"}, {"grade": "B", "score": "[10..20)"},
         {"grade": "C", "score": "(..10)"}]
BAND_B = "'[10..20)'"  # as the band's score is written in grading.yaml
SIZE_CHECK = {"checks": [{"id": "R_SIZE", "when": "size > 1", "outcome": "refer",
                          "reason": "SIZE"}]}


def lint(folder: Path, *args: str):
    result = CliRunner().invoke(cli, ["lint", str(folder), *args])
    return result, result.stdout.splitlines()


def where(path: Path, needle: str, occurrence: int = 1) -> str:
    """FILE:LINE:COL of the n-th line holding ``needle``, at the needle."""
    seen = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return f"{path}:{number}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {path}")


def findings(lines: list[str], code: str) -> list[str]:
    return [line for line in lines if line.endswith(f"[{code}]")]


def derived_size_table(rules: list, hit_policy: str, **extra) -> dict:
    """A derived fact `size` from a table over the market share."""
    return {"derived": {"size": {"table": table(
        rules, inputs=[{"name": "share", "expr": "operating.market_share"}],
        hit_policy=hit_policy, **extra)}}}


def test_the_shipped_ruleset_is_clean():
    result, lines = lint(ROOT / "rulesets" / "default")
    assert result.exit_code == 0
    assert lines == ["0 errors, 0 warnings"]


def test_a_rule_after_a_catch_all_under_first_hit_can_never_fire(tmp_path):
    folder = build_ruleset(tmp_path, policy=policy_table(
        [{"id": "P_EVERYONE"}, {"id": "P_A", "when": {"grade": "A"}}], inputs=["grade"],
        hit_policy="first"))
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "row-shadowed") == [
        f"{where(folder / 'policy.yaml', 'id: P_A')}: error: rule P_A can never fire: every "
        "input it matches is taken first by rule P_EVERYONE (hit policy first) [row-shadowed]"]
    assert lines[-1].startswith("1 error, ")


def test_a_rule_covered_by_several_earlier_rules_together_is_shadowed(tmp_path):
    folder = build_ruleset(tmp_path, admission=SIZE_CHECK, derived=derived_size_table([
        {"id": "SMALL", "when": {"share": "(..0.5)"}, "then": {"out": 1}},
        {"id": "LARGE", "when": {"share": "[0.5..)"}, "then": {"out": 2}},
        {"id": "MIDDLE", "when": {"share": "[0.2..0.8]"}, "then": {"out": 3}}], "first"))
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "row-shadowed") == [
        f"{where(folder / 'derived.yaml', 'id: MIDDLE')}: error: rule MIDDLE can never fire: "
        "every input it matches is taken first by rules SMALL, LARGE (hit policy first) "
        "[row-shadowed]"]


def test_a_rule_that_still_fires_for_some_input_is_not_shadowed(tmp_path):
    folder = build_ruleset(tmp_path, admission=SIZE_CHECK, derived=derived_size_table([
        {"id": "SMALL", "when": {"share": "(..0.5)"}, "then": {"out": 1}},
        {"id": "MIDDLE", "when": {"share": "[0.2..0.8]"}, "then": {"out": 3}},
        {"id": "REST", "then": {"out": 2}}], "first"))
    result, lines = lint(folder)
    assert result.exit_code == 0
    assert findings(lines, "row-shadowed") == []
    assert findings(lines, "table-gap") == []


def test_priority_order_decides_what_is_shadowed(tmp_path):
    approval = {"levels": ["automatic", "manager"], "table": table(
        [{"id": "A_C_AUTOMATIC", "when": {"grade": "C"}, "then": {"required_level": "automatic"}},
         {"id": "A_ALL_MANAGER", "then": {"required_level": "manager"}}],
        inputs=["grade"], hit_policy="priority", table_id="approval_table",
        outputs=[{"name": "required_level", "type": "string",
                  "priority": ["manager", "automatic"]}])}
    folder = build_ruleset(tmp_path, approval=approval)
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "row-shadowed") == [
        f"{where(folder / 'approval.yaml', 'id: A_C_AUTOMATIC')}: error: rule A_C_AUTOMATIC "
        "can never fire: every input it matches is taken first by rule A_ALL_MANAGER, tried "
        "before it in priority order (hit policy priority) [row-shadowed]"]


def test_rules_that_overlap_under_unique_are_an_error(tmp_path):
    folder = build_ruleset(tmp_path, policy=policy_table(
        [{"id": "P_AB", "when": {"grade": "A, B"}}, {"id": "P_B", "when": {"grade": "B"}},
         {"id": "P_C", "when": {"grade": "C"}}], inputs=["grade"]))
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "rows-overlap") == [
        f"{where(folder / 'policy.yaml', 'id: P_B')}: error: rules P_AB and P_B both match "
        "under hit policy unique when grade is B: a decision reaching them fails "
        "[rows-overlap]"]


def test_numeric_overlap_names_a_shared_value(tmp_path):
    folder = build_ruleset(tmp_path, admission=SIZE_CHECK, derived=derived_size_table([
        {"id": "LOW", "when": {"share": "[0..0.5]"}, "then": {"out": 1}},
        {"id": "HIGH", "when": {"share": "[0.5..1]"}, "then": {"out": 2}}], "unique"))
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "rows-overlap") == [
        f"{where(folder / 'derived.yaml', 'id: HIGH')}: error: rules LOW and HIGH both match "
        "under hit policy unique when share is 0.5: a decision reaching them fails "
        "[rows-overlap]"]


def test_overlap_under_any_matters_only_with_different_outputs(tmp_path):
    same = build_ruleset(tmp_path / "same", admission=SIZE_CHECK, derived=derived_size_table([
        {"id": "LOW", "when": {"share": "<= 0.5"}, "then": {"out": 1}},
        {"id": "HIGH", "when": {"share": ">= 0.5"}, "then": {"out": 1}}], "any"))
    assert findings(lint(same)[1], "rows-overlap") == []
    different = build_ruleset(tmp_path / "different", admission=SIZE_CHECK,
                              derived=derived_size_table([
                                  {"id": "LOW", "when": {"share": "<= 0.5"}, "then": {"out": 1}},
                                  {"id": "HIGH", "when": {"share": ">= 0.5"}, "then": {"out": 2}}],
                                  "any"))
    result, lines = lint(different)
    assert result.exit_code == 1
    assert findings(lines, "rows-overlap") == [
        f"{where(different / 'derived.yaml', 'id: HIGH')}: error: rules LOW and HIGH both "
        "match with different outputs under hit policy any when share is 0.5: a decision "
        "reaching them fails [rows-overlap]"]


def test_a_grade_no_policy_rule_matches_is_a_gap(tmp_path):
    folder = build_ruleset(tmp_path, policy=policy_table(
        [{"id": "P_A", "when": {"grade": "A"}}, {"id": "P_B", "when": {"grade": "B"}}],
        inputs=["grade"]))
    result, lines = lint(folder)
    assert result.exit_code == 0  # a gap is a warning
    assert findings(lines, "table-gap") == [
        f"{where(folder / 'policy.yaml', 'rules:')}: warning: table policy_table: no rule "
        "matches when grade is C (the table has no default, so its outputs are missing) "
        "[table-gap]"]


def test_a_numeric_gap_is_given_as_a_range_within_the_fields_bounds(tmp_path):
    # operating.market_share is 0..1 in the customer schema: nothing below 0 or above 1.
    folder = build_ruleset(tmp_path, admission=SIZE_CHECK, derived=derived_size_table([
        {"id": "SMALL", "when": {"share": "(..0.3)"}, "then": {"out": 1}},
        {"id": "LARGE", "when": {"share": "[0.5..)"}, "then": {"out": 2}}], "unique"))
    _result, lines = lint(folder)
    assert findings(lines, "table-gap") == [
        f"{where(folder / 'derived.yaml', 'rules:')}: warning: table t: no rule matches when "
        "share is [0.3..0.5) (the table has no default, so its outputs are missing) "
        "[table-gap]"]


def test_a_table_with_a_default_has_no_gap(tmp_path):
    folder = build_ruleset(tmp_path, admission=SIZE_CHECK, derived=derived_size_table([
        {"id": "SMALL", "when": {"share": "(..0.3)"}, "then": {"out": 1}}], "first",
        default={"out": 0}))
    assert findings(lint(folder)[1], "table-gap") == []


def test_a_cell_no_value_can_match_is_an_error(tmp_path):
    folder = build_ruleset(tmp_path, policy=policy_table(
        [{"id": "P_TYPO", "when": {"grade": "AAAA"}},
         {"id": "P_ALL", "when": {"grade": "A, B, C"}}], inputs=["grade"]))
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "row-never-matches") == [
        f"{where(folder / 'policy.yaml', 'AAAA')}: error: rule P_TYPO can never fire: no value "
        "of grade matches 'AAAA' [row-never-matches]"]


def characteristic(bins: list, input_name: str = "operating.market_share") -> dict:
    return {"id": "c", "input": input_name, "reason": "WEAK", "bins": bins}


def test_scorecard_values_no_bin_takes_are_a_warning(tmp_path):
    folder = build_ruleset(tmp_path, grading=grading_spec([characteristic([
        {"range": "(..0.5)", "points": 10}, {"range": "[0.6..)", "points": 20}])], BANDS))
    result, lines = lint(folder)
    assert result.exit_code == 0
    assert findings(lines, "bins-gap") == [
        f"{where(folder / 'grading.yaml', 'bins:')}: warning: characteristic c: no bin takes "
        "[0.5..0.6) and a missing value (0 points; add a bin, or an else bin) [bins-gap]"]


def test_whole_number_bins_need_cover_only_whole_numbers_within_bounds(tmp_path):
    # overdue_count_12m is a whole number >= 0: {0}, [1..3), [3..) leave nothing out.
    folder = build_ruleset(tmp_path, grading=grading_spec([characteristic([
        {"missing": True, "points": 0}, {"values": [0], "points": 20},
        {"range": "[1..3)", "points": 10}, {"range": "[3..)", "points": 0}],
        "credit_history.overdue_count_12m")], BANDS))
    _result, lines = lint(folder)
    assert findings(lines, "bins-gap") == []
    assert findings(lines, "grade-unreachable") == []


def test_an_else_bin_covers_everything(tmp_path):
    folder = build_ruleset(tmp_path, grading=grading_spec([characteristic([
        {"range": "[0.6..)", "points": 20}, {"else": True, "points": 0}])], BANDS))
    assert findings(lint(folder)[1], "bins-gap") == []


def test_a_band_between_two_reachable_scores_is_an_unreachable_grade(tmp_path):
    # Scores can be 0 or 20 only: band B [10..20) is never reached.
    folder = build_ruleset(tmp_path, grading=grading_spec([characteristic([
        {"missing": True, "points": 0}, {"range": "(..0.5)", "points": 0},
        {"range": "[0.5..)", "points": 20}])], BANDS))
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "grade-unreachable") == [
        f"{where(folder / 'grading.yaml', BAND_B)}: error: grade B can never be given: no "
        "score the scorecard can give falls in [10..20) (nearest scores: 0 below, 20 above), "
        "and no cap or floor gives it [grade-unreachable]"]


def test_a_band_only_a_floor_reaches_is_a_warning(tmp_path):
    folder = build_ruleset(tmp_path, grading=grading_spec([characteristic([
        {"missing": True, "points": 0}, {"range": "(..0.5)", "points": 0},
        {"range": "[0.5..)", "points": 20}])], BANDS, adjustments=[
        {"id": "FLOOR_GUARANTEE", "when": "flags.parent_guarantee", "at_least": "B",
         "reason": "GUARANTEE"}]))
    result, lines = lint(folder)
    assert result.exit_code == 0
    assert findings(lines, "band-unreachable") == [
        f"{where(folder / 'grading.yaml', BAND_B)}: warning: band B: no score the "
        "scorecard can give falls in [10..20) (nearest scores: 0 below, 20 above); the grade "
        "is given only by FLOOR_GUARANTEE [band-unreachable]"]


def test_a_worse_grade_getting_more_is_an_error(tmp_path):
    folder = build_ruleset(tmp_path, policy=policy_table([
        {"id": "P_A", "when": {"grade": "A"}, "then": {
            "payment_term_days": 30, "credit_limit": "financials.revenue * 0.1",
            "guarantee_required": True}},
        {"id": "P_B", "when": {"grade": "B"}, "then": {
            "payment_term_days": 60, "credit_limit": "financials.revenue * 0.2",
            "guarantee_required": True}},
        {"id": "P_C", "when": {"grade": "C"}, "then": {
            "payment_term_days": 0, "credit_limit": 0, "guarantee_required": False}}],
        inputs=["grade"]))
    result, lines = lint(folder)
    assert result.exit_code == 1
    policy = folder / "policy.yaml"
    assert findings(lines, "policy-wrong-way") == [
        f"{where(policy, 'financials.revenue * 0.2')}: error: grade B gets a larger credit "
        "limit (200000.00) than the better grade A (100000.00) (for financials.revenue = "
        "1000000): a worse grade should not get more [policy-wrong-way]",
        f"{value_at(policy, 'payment_term_days: 60', '60')}: error: grade B gets a longer "
        "payment term (60) than the better grade A (30): a worse grade should not get more "
        "[policy-wrong-way]",
        f"{value_at(policy, 'guarantee_required: false', 'false')}: error: grade C gets no "
        "guarantee where the better grade B needs one: a worse grade should not get more "
        "[policy-wrong-way]"]


def value_at(path: Path, line_needle: str, value: str) -> str:
    """FILE:LINE:COL of ``value`` on the line holding ``line_needle``."""
    file, line, column = where(path, line_needle).rsplit(":", 2)
    return f"{file}:{line}:{int(column) + line_needle.index(value)}"


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


def test_lint_api_and_usage_errors(tmp_path):
    assert lint_ruleset(ROOT / "rulesets" / "default") == []
    result, lines = lint(tmp_path / "nothing")
    assert result.exit_code == 1 and lines == []
    assert result.stderr.endswith("nothing: not a ruleset folder (no ruleset.yaml)\n")
    result = CliRunner().invoke(cli, ["lint", "--bogus"])
    assert result.exit_code == 2


def test_monitoring_windows_longer_than_memory_and_acting_before_a_hold_are_warnings(
        tmp_path):
    folder = copy_ruleset(tmp_path)
    path = folder / "monitoring.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("remember_days: 400", "remember_days: 150")
    text = text.replace('when: "n > hold.n and overdue_after == 0', 'when: "overdue_after == 0')
    path.write_text(text, encoding="utf-8")
    result, lines = lint(folder)
    assert result.exit_code == 0
    window = where(path, '"days_late > 5 and n > second.n and day')
    before = where(path, '"overdue_after == 0 and headroom')
    assert findings(lines, "window-forgotten") == [
        f"{window}: warning: M_THIRD_LATE_PAYMENT looks 180 days back, but signals are "
        "forgotten after remember_days (150) [window-forgotten]"]
    assert findings(lines, "before-hold") == [
        f"{before}: warning: M_HOLD_RELEASED: a "
        "payment_received remembered from before the hold matches as soon as the hold "
        "arrives; add n > hold.n [before-hold]"]


def test_values_declared_in_facts_yaml_do_not_close_the_list(tmp_path):
    # facts.yaml's values are for information: nothing refuses another sector, so a row
    # for one is not dead, and a table naming only the declared ones has a gap.
    import copy

    from ruleset_factory import FACTS

    facts = copy.deepcopy(FACTS)
    facts["facts"]["industry.sector"]["values"] = ["retail", "wholesale"]
    segment = {"derived": {"size": {"table": table(
        [{"id": "RETAIL", "when": {"sector": "retail"}, "then": {"out": 1}},
         {"id": "EXPORT", "when": {"sector": "export"}, "then": {"out": 2}}],
        hit_policy="unique", inputs=[{"name": "sector", "expr": "industry.sector"}],
        outputs=[{"name": "out", "type": "integer"}])}}}
    folder = build_ruleset(tmp_path, facts=facts, admission=SIZE_CHECK, derived=segment)
    _result, lines = lint(folder)
    assert findings(lines, "row-never-matches") == []
    assert [line.split(": ", 2)[2] for line in findings(lines, "table-gap")] == [
        "table t: no rule matches when sector is wholesale, any other value (the table has "
        "no default, so its outputs are missing) [table-gap]"]


def test_a_worse_grade_getting_more_only_with_a_guarantee_is_found(tmp_path):
    # The B row for guaranteed customers is reached only when flags.parent_guarantee is
    # true: the check tries true, false and missing for the true/false facts a row reads.
    folder = build_ruleset(tmp_path, policy=policy_table([
        {"id": "P_A", "when": {"grade": "A"}, "then": {"credit_limit": 50000}},
        {"id": "P_B_GUARANTEED", "when": {"grade": "B", "guaranteed": "true"},
         "then": {"credit_limit": 90000}},
        {"id": "P_B", "when": {"grade": "B"}, "then": {"credit_limit": 20000}},
        {"id": "P_C", "when": {"grade": "C"}, "then": {"credit_limit": 0}}],
        hit_policy="first",
        inputs=["grade", {"name": "guaranteed", "expr": "flags.parent_guarantee"}]))
    result, lines = lint(folder)
    assert result.exit_code == 1
    assert findings(lines, "policy-wrong-way") == [
        f"{value_at(folder / 'policy.yaml', 'credit_limit: 90000', '90000')}: error: grade B "
        "gets a larger credit limit (90000.00) than the better grade A (50000.00): a worse grade "
        "should not get more [policy-wrong-way]"]


def test_a_bin_no_value_can_fall_in_is_an_error(tmp_path):
    # overdue_count_12m is a whole number >= 0: {0} comes after (..3), which takes 0 first;
    # and market_share is 0..1, so (..-1) takes nothing.
    folder = build_ruleset(tmp_path, grading=grading_spec([
        characteristic([{"range": "(..3)", "points": 10}, {"values": [0], "points": 80},
                        {"range": "[3..)", "points": 0}, {"missing": True, "points": 0}],
                       "credit_history.overdue_count_12m"),
        {**characteristic([{"range": "(..-1)", "points": 5}, {"else": True, "points": 0}]),
         "id": "share"}], BANDS))
    result, lines = lint(folder)
    assert result.exit_code == 1
    grading = folder / "grading.yaml"
    assert findings(lines, "bin-never-matches") == [
        f"{where(grading, 'values:')}: error: characteristic c: bin 0 can never be taken: the "
        "bins before it take every value it would [bin-never-matches]",
        f"{where(grading, 'range: (..-1)')}: error: characteristic share: bin (..-1) can "
        "never be taken: no value the input can take falls in it [bin-never-matches]"]


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


def lint_api_lines(folder: Path) -> list[str]:
    return [str(finding) for finding in lint_ruleset(folder)]


def test_a_folder_that_is_not_a_ruleset_is_one_line_on_stderr(tmp_path):
    result, lines = lint(tmp_path)
    assert result.exit_code == 1 and lines == []
    assert result.stderr == f"credit: error: {tmp_path}: not a ruleset folder (no ruleset.yaml)\n"

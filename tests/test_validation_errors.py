"""Validation errors: one broken ruleset per error class under tests/rulesets/broken/, each
with the exact lines ``credit validate`` must print (expected.txt, paths relative to the
repository root); several problems at once; and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import ProblemsError
from engine.ruleset.loader import load_ruleset
from tests.paths import ROOT
from tests.ruleset_factory import build_ruleset

BROKEN = Path("tests/rulesets/broken")  # relative: the labels in expected.txt are
CASES = sorted(p.name for p in (ROOT / BROKEN).iterdir() if p.is_dir())

REQUIRED_CLASSES = {
    "yaml_syntax", "schema_violation", "unknown_field", "bad_expression", "type_error",
    "band_gap", "band_overlap", "grade_without_band", "band_order", "bin_overlap",
    "derived_cycle", "duplicate_rule_id", "unknown_table_input",
    "fact_not_in_customer_schema", "missing_stage_file", "policy_missing_output",
    "approval_level_unknown", "empty_file", "not_a_mapping",
}

def case_params():
    return list(CASES)


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def problems(folder) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(folder)
    return [str(p) for p in caught.value.problems]


def expected(name: str) -> list[str]:
    text = (ROOT / BROKEN / name / "expected.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


# --- one folder per error class -------------------------------------------------------------

def test_every_error_class_has_a_broken_ruleset():
    assert set(CASES) >= REQUIRED_CLASSES
    for name in CASES:
        folder = ROOT / BROKEN / name
        assert (folder / "ruleset.yaml").is_file(), name
        assert expected(name), f"{name}/expected.txt is empty"
        for line in expected(name):
            assert line.startswith(f"{BROKEN}/{name}/"), line


@pytest.mark.parametrize("name", case_params())
def test_broken_ruleset_reports_exactly_its_problem(name):
    assert problems(f"{BROKEN}/{name}") == expected(name)


@pytest.mark.parametrize("name", CASES)
def test_broken_ruleset_reports_its_problem_among_others(name):
    reported = problems(f"{BROKEN}/{name}")
    assert set(expected(name)) <= set(reported)
    assert reported == sorted(reported, key=_location_key)


def _location_key(line: str):
    match = re.match(r"^(.*?)(?::(\d+):(\d+))?: (.*)$", line)
    file, row, column, message = match.groups()
    return file, int(row or 0), int(column or 0), message


@pytest.mark.parametrize(("name", "points_at"), [
    ("unknown_field", "large_costumer"),
    ("unknown_field_quoted", "flags.insolvent"),
    ("type_error", "industry.sector > 5"),
    ("bad_expression", "(not large_customer"),
    ("unknown_function", "maximum("),
    ("unknown_table_input", "admission_outcom:"),
    ("schema_violation", "mesage:"),
    ("duplicate_rule_id", "A_ANALYST, when: {admission_outcome: accept}"),
    ("field_name_as_text", 'industry.sector"}'),
    ("dotted_name_as_text", 'industry.sectr"}'),
])
def test_column_points_at_the_cause_inside_the_text(name, points_at):
    file, row, column, _ = _location_key(expected(name)[0])
    line = Path(file).read_text(encoding="utf-8").splitlines()[row - 1]
    assert line[column - 1:].startswith(points_at), (line, column)


def test_schema_messages_name_the_json_pointer():
    assert expected("schema_violation") == [
        f"{BROKEN}/schema_violation/admission.yaml:12:5: /checks/1/mesage: unexpected property "
        "'mesage' (allowed: id, when, outcome, reason, message)"]
    assert expected("schema_wrong_type")[0].endswith(
        ": /scorecard/characteristics/1/bins/2/points: expected a number, got the text 'fifty'")


def test_the_default_ruleset_validates(default_ruleset):
    assert default_ruleset.name == "default"
    assert default_ruleset.grades == ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")


# --- several problems at once ---------------------------------------------------------------

DERIVED = """\
derived:
  ratio: financials.equity / financials.revenu
"""
ADMISSION = """\
checks:
  - id: KO_TEXT
    when: industry.sector > 5
    outcome: reject
    reason: BAD_SECTOR
"""
GRADING = """\
scorecard:
  base_points: 0
  reason_count: 1
  characteristics:
    - id: share
      input: operating.market_share
      reason: SMALL_SHARE
      bins:
        - {missing: true, points: 0}
        - {range: "[0..)", points: 20}
bands:
  - {grade: A, score: "[15..)"}
  - {grade: B, score: "[10..14)"}
  - {grade: C, score: "(..10)"}
"""
APPROVAL = """\
levels: [automatic, manager]
table:
  id: routing
  hit_policy: first
  inputs: []
  outputs: [{name: required_level, type: string}]
  rules:
    - {id: R1, then: {required_level: boss}}
"""


def test_problems_in_several_files_are_all_reported_sorted(tmp_path):
    folder = build_ruleset(tmp_path / "many", derived=DERIVED, admission=ADMISSION,
                           grading=GRADING, approval=APPROVAL)
    reported = problems(folder)
    assert reported == [
        f"{folder}/admission.yaml:3:11: cannot compare a string with an integer",
        f"{folder}/approval.yaml:8:39: 'boss' is not one of the levels (automatic, manager)",
        f"{folder}/derived.yaml:2:30: unknown field 'financials.revenu' (did you mean "
        "'financials.revenue'?)",
        f"{folder}/grading.yaml:12:23: gap between bands B [10..14) and A [15..)",
    ]


def test_schema_problems_in_several_files_are_all_reported_sorted(tmp_path):
    admission = ADMISSION.replace("    reason: BAD_SECTOR\n", "    reason: BAD_SECTOR\n"
                                                              "    severity: high\n")
    approval = APPROVAL.replace("hit_policy: first", "hit_policy: firts")
    folder = build_ruleset(tmp_path / "many", admission=admission, approval=approval,
                           facts={"facts": {"financials.revenue": {"type": "monney"}}})
    reported = problems(folder)
    assert reported == [
        f"{folder}/admission.yaml:6:5: /checks/0/severity: unexpected property 'severity' "
        "(allowed: id, when, outcome, reason, message)",
        f"{folder}/approval.yaml:4:15: /table/hit_policy: must be one of 'unique', 'first', "
        "'priority', 'any', 'collect', 'rule_order', 'output_order'; got 'firts'",
        f"{folder}/facts.yaml:3:11: /facts/financials.revenue/type: must be one of 'number', "
        "'integer', 'money', 'string', 'boolean', 'date', 'time', 'datetime', 'duration', "
        "'years_months_duration', 'list'; got 'monney'",
    ]


# --- the CLI --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", case_params())
def test_cli_validate_prints_the_problems_and_exits_1(credit, name):
    result = credit("validate", f"{BROKEN}/{name}")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == expected(name)


def test_cli_validate_default_exits_0(credit):
    result = credit("validate", "rulesets/default")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"ok: rulesets/default: ruleset default \S+, hash [0-9a-f]{16}\n",
                        result.stdout)
    assert result.stderr == ""


@pytest.mark.parametrize(("path", "message"), [
    (f"{BROKEN}/band_gap/expected.txt", "not a directory"),
    ("tests/rulesets/no_such_ruleset", "not a ruleset folder (no such directory)"),
    ("tests/rulesets", "not a ruleset folder (no ruleset.yaml in it)"),
])
def test_cli_validate_on_something_not_a_ruleset_is_one_line(credit, path, message):
    result = credit("validate", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{path}: {message}"]


def test_credit_command_prints_problems_on_stderr():
    command = Path(sys.executable).parent / "credit"
    if not command.exists():
        pytest.skip("the credit command is not installed")
    done = subprocess.run([str(command), "validate", f"{BROKEN}/band_overlap"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == expected("band_overlap")

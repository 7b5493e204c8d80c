"""Messages for what analysts actually get wrong: the problem in their words, at its
place, with the parser's own words kept for whoever wants them."""

from __future__ import annotations

import pytest

from engine.errors import ProblemsError
from engine.language.yaml_source import load_yaml_text
from tests.audit_helpers import copy_ruleset


@pytest.mark.parametrize(("text", "expected"), [
    ("a:\n  b: 1\n c: 2\n", "f.yaml:3:2: the indentation does not line up: this line is "
                           "indented more or less than the lines of its block (YAML: "
                           "expected <block end>, but found '<block mapping start>' "
                           "(while parsing a block mapping that starts at line 1))"),
    ("a: 1\n\tb: 2\n", "f.yaml:2:1: a tab: indent with spaces (YAML: found character '\\t' "
                      "that cannot start any token (while scanning for the next token))"),
    ("a: b: c\n", "f.yaml:1:5: a ':' where a value was expected: put text that holds ': ' "
                  "in quotes (YAML: mapping values are not allowed here)"),
])
def test_yaml_mistakes_are_said_plainly(text, expected):
    with pytest.raises(ProblemsError) as caught:
        load_yaml_text(text, "f.yaml")
    assert [str(p) for p in caught.value.problems] == [expected]


def test_a_word_where_a_number_of_days_belongs(tmp_path, credit):
    folder = ruleset_with_policy_line(tmp_path, "        payment_term_days: 60",
                                      '        payment_term_days: "sixty"')
    result = credit("validate", folder)
    assert result.exit_code == 1
    assert result.stderr == (f"{folder}/policy.yaml:41:28: 'payment_term_days' takes a "
                             "number of days, not the word 'sixty'; write it in digits, or "
                             "an expression over the facts\n")


def test_a_fact_name_in_a_number_cell_is_still_an_expression(tmp_path, credit):
    folder = ruleset_with_policy_line(tmp_path, "        review_interval_days: 365",
                                      "        review_interval_days: founded")
    result = credit("validate", folder)
    assert "not the word" not in result.stderr  # a declared fact is read, and type-checked


def ruleset_with_policy_line(tmp_path, line: str, replacement: str):
    """A copy of the shipped ruleset with the first ``line`` of policy.yaml replaced."""
    folder = copy_ruleset(tmp_path)
    policy = folder / "policy.yaml"
    policy.write_text(policy.read_text().replace(line, replacement, 1))
    return folder


def test_a_misspelt_csv_column_names_the_file_and_the_closest_one(tmp_path, credit):
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("id,nmae,financials.revenu,zzz\nC-1,A,1,2\n")
    result = credit("batch", portfolio, "--out", tmp_path / "r.jsonl", "--no-audit")
    assert result.exit_code == 1
    assert result.stderr == (f"{portfolio}:1: unknown column 'nmae' (did you mean 'name'?), "
                             "'financials.revenu' (did you mean 'financials.revenue'?), "
                             "'zzz'\n")

"""What validate and the override register let through: grades are a closed list known
to the validator, override amounts are exact decimals, an override's customer id is
checked like a customer document's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET


def edited(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder)
    text = (folder / file).read_text()
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1))
    return folder


@pytest.mark.parametrize(("cell", "column"), [("AAX", 21), ('"AA, AAX"', 21),
                                              ('"not(AAX)"', 21)])
def test_a_policy_cell_naming_no_grade_is_a_located_error(tmp_path, cell, column, credit):
    folder = edited(tmp_path, "policy.yaml", "      when: {grade: AA}",
                    f"      when: {{grade: {cell}}}")
    result = credit("validate", folder)
    assert result.exit_code == 1
    assert result.stderr == (f"{folder}/policy.yaml:47:{column}: 'AAX' is not a grade (one "
                             "of AAA, AA, A, BBB, BB, B, CCC)\n")


def test_every_grade_the_ruleset_names_is_accepted(tmp_path, credit):
    folder = edited(tmp_path, "policy.yaml", "      when: {grade: AA}",
                    '      when: {grade: "AA, AAA"}')
    result = credit("validate", folder)
    # (the row now overlaps P_AAA: lint's business, not validate's)
    assert "is not a grade" not in result.stderr


def add(db: Path, *args: str):
    """``credit override add ARGS`` by a credit manager into the register ``db``."""
    return invoke_credit("override", "add", *args, "--reason", "site visit", "--by", "ana",
                         "--role", "credit_manager", "--db", db)


def test_an_override_grade_must_be_a_grade_of_the_ruleset(tmp_path):
    db = tmp_path / "audit.db"
    refused = add(db, "C-1", "--grade", "Z")
    assert refused.exit_code == 1
    assert refused.stderr == ("credit: error: 'Z' is not a grade of ruleset default (one of "
                              "AAA, AA, A, BBB, BB, B, CCC)\n")
    assert add(db, "C-1", "--grade", "BB").exit_code == 0


@pytest.mark.parametrize(("given", "kept"), [("250000.10", "250000.10"), ("250000.1", "250000.1"),
                                             ("250000", 250000), ("0", 0),
                                             ("1000000000000000", 1000000000000000)])
def test_override_amounts_are_kept_exactly(tmp_path, given, kept, credit):
    db = tmp_path / "audit.db"
    assert add(db, "C-1", "--limit", given).exit_code == 0
    listed = json.loads(credit("override", "list", "--json", "--db", db).stdout)
    assert listed[0]["value"] == kept


@pytest.mark.parametrize("given", ["abc", "-5", "1e400", "1000000000000000.01", "NaN"])
def test_an_amount_that_is_not_one_is_a_usage_error(tmp_path, given):
    result = add(tmp_path / "audit.db", "C-1", "--limit", given)
    assert result.exit_code == 2
    assert "Invalid value for '--limit'" in result.stderr


@pytest.mark.parametrize("customer_id", ["C-1\n", "", " C-1", "C 1", "x" * 65])
def test_an_override_customer_id_is_checked_like_a_documents(tmp_path, customer_id):
    db = tmp_path / "audit.db"
    result = add(db, customer_id, "--refer")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"credit: error: customer id {customer_id!r}: ")

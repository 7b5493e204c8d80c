"""Inputs written to break things (by an attacker or by accident) get a located error,
never an internal one: deep nesting, odd keys, a pattern's '$' and a trailing newline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.language.ecma_regex import matches, to_python
from engine.language.expressions import ExpressionError, parse
from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET


def edited_ruleset(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the shipped ruleset with ``old`` replaced by ``new`` once in ``file``."""
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def validate(folder: Path):
    """``credit validate FOLDER``."""
    return invoke_credit("validate", folder)


def test_a_monitoring_condition_of_500_minus_signs_is_a_located_error(tmp_path):
    folder = edited_ruleset(tmp_path, "monitoring.yaml", 'when: "days_late > 5"}',
                            'when: "days_late > ' + "-" * 500 + '5"}')
    result = validate(folder)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{folder}/monitoring.yaml:50:")
    assert first.endswith(": expression too deeply nested")
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("depth", [100, 101])
def test_nesting_is_refused_just_past_the_limit(depth):
    source = "-" * (depth - 1) + "x"  # each minus is one level: the name sits at depth
    if depth <= 100:
        parse(source)
    else:
        with pytest.raises(ExpressionError, match="expression too deeply nested"):
            parse(source)


def test_a_facts_key_ending_in_a_newline_is_a_located_error(tmp_path):
    folder = edited_ruleset(tmp_path, "facts.yaml", "facts:\n",
                            'facts:\n  "extra_fact\\n": {type: number}\n')
    result = validate(folder)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{folder}/facts.yaml:4:3: /facts: 'extra_fact\\n' "
                                    "does not match")
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(("customer_id", "valid"), [
    ("C-1", True), ("C-1\n", False), ("C-1\r", False), ("C-1\n\n", False)])
def test_a_customer_id_with_a_trailing_newline_is_refused(tmp_path, customer_id, valid,
                                                            credit):
    path = tmp_path / "customer.json"
    path.write_text(json.dumps({"id": customer_id, "name": "Trailing Newline GmbH"}))
    result = credit("decide", path, "--no-audit", "--as-of", "2026-11-30")
    if valid:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 1
        assert f"/id: {customer_id!r} does not match" in result.stderr


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("^a$", "a", True),
    ("^a$", "a\n", False),          # ECMA: '$' is the end of the text
    ("^[$]$", "$", True),           # '$' in a class is a dollar
    (r"^\$$", "$", True),           # so is an escaped one
    (r"^a\\$", "a\\", True),        # an escaped backslash does not escape the '$'
    ("^(a|b)$", "b\n", False),
])
def test_patterns_mean_what_ecma_262_says(pattern, text, expected):
    assert matches(pattern, text) is expected


def test_only_unescaped_dollars_outside_classes_are_translated():
    assert to_python(r"^[a$]\$x$") == r"^[a$]\$x\Z"

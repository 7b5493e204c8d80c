"""Docs stay honest: every command, expression function and hit policy is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.main import cli
from engine.language.expressions import FUNCTIONS
from engine.language.tables import HIT_POLICIES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI_PAGE = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
LANGUAGE = (ROOT / "docs" / "ruleset-language.md").read_text(encoding="utf-8")


BUILT_IN = sorted(cli.lazy)  # every built-in command, imported when asked for


@pytest.mark.parametrize("command", BUILT_IN)
def test_every_command_is_in_the_command_line_page(command):
    assert f"`credit {command}" in CLI_PAGE


@pytest.mark.parametrize("command", BUILT_IN)
def test_every_command_has_help(command):
    assert cli.get_command(None, command).help


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_expression_function_is_documented(function):
    assert f"`{function}(" in LANGUAGE


@pytest.mark.parametrize("policy", HIT_POLICIES)
def test_every_hit_policy_is_documented(policy):
    assert f"**{policy}**" in LANGUAGE


def test_readme_shows_the_two_commands_and_ci_runs_the_test_one():
    assert "make demo" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


PLUGINS_DOC = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def _hookspecs():
    import inspect

    from engine.enrich import hookspecs

    return [(name, function) for name, function in inspect.getmembers(hookspecs)
            if name.startswith("credit_rules_") and callable(function)]


@pytest.mark.parametrize(("name", "function"), _hookspecs(), ids=lambda x: x
                         if isinstance(x, str) else "")
def test_every_hook_is_documented_with_its_arguments_and_an_example(name, function):
    import inspect

    arguments = ", ".join(inspect.signature(function).parameters)
    assert f"### `{name}({arguments})`" in PLUGINS_DOC
    section = PLUGINS_DOC.split(f"### `{name}(", 1)[1].split("\n### ", 1)[0]
    assert f"def {name}(" in section, "the section needs an example implementation"
    assert function.__doc__ and "Called" in function.__doc__


def test_the_hooks_are_the_documented_ones():
    documented = {line.split("`")[1].split("(")[0] for line in PLUGINS_DOC.splitlines()
                  if line.startswith("### `credit_rules_")}
    assert documented == {name for name, _ in _hookspecs()}


def test_every_monitoring_signal_and_field_is_documented():
    from engine.ruleset.monitoring_signals import SIGNALS

    for signal, fields in SIGNALS.items():
        row = next(line for line in LANGUAGE.splitlines() if line.startswith(f"| `{signal}` |"))
        assert all(f"`{name}`" in row for name in fields), signal


def test_every_regrade_measure_is_documented_and_computed():
    import datetime as dt
    import json

    from engine.monitor.account import Account

    schema = json.loads((ROOT / "schemas" / "monitoring.schema.json").read_text())
    measures = schema["properties"]["regrade"]["properties"]["facts"]["additionalProperties"]
    assert set(measures["enum"]) == set(Account("x").measures(dt.date(2026, 1, 1)))
    assert all(f"`{name}`" in LANGUAGE for name in measures["enum"])


def _every_command():
    """(path, command) of every credit command and subcommand."""
    import click

    found = []

    def walk(group, path):
        for name in group.list_commands(None):
            command = group.get_command(None, name)
            found.append((f"{path} {name}".strip(), command))
            if isinstance(command, click.Group):
                walk(command, f"{path} {name}")

    walk(cli, "")
    return found


@pytest.mark.parametrize(("path", "command"), _every_command(), ids=lambda x: x
                         if isinstance(x, str) else "")
def test_every_command_has_a_summary_and_examples(path, command):
    lines = [line.strip() for line in command.help.splitlines()]
    assert lines[0].endswith(".")
    examples = [line for line in lines[lines.index("Examples:") + 1:]
                if line.startswith("credit ")]
    assert examples, f"credit {path} --help shows no example"
    top = path.split()[0]
    assert all(e.split()[1] == top for e in examples)


@pytest.mark.parametrize(("command", "usage"), [
    ("validate", "Usage: credit validate [OPTIONS] [RULESET]"),
    ("test", "Usage: credit test [OPTIONS] [RULESET]"),
    ("lint", "Usage: credit lint [OPTIONS] [RULESET]"),
    ("replay", "Usage: credit replay [OPTIONS] [SEQ|DECISION_ID]"),
])
def test_optional_arguments_are_shown_as_optional(command, usage, credit):
    shown = credit(command, "--help").stdout.splitlines()[0]
    assert shown.split(" ", 2)[2] == usage.split(" ", 2)[2]  # (the runner calls it 'cli')

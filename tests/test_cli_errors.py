"""One voice for errors: a missing ruleset folder or input file is the same one line and
the same exit code (1) on every command; problems in files go to stderr."""

from __future__ import annotations

import pytest

from tests.paths import ROOT

CUSTOMER = str(ROOT / "examples" / "customers" / "bbb-distributor.json")


@pytest.mark.parametrize("args", [
    ["validate", "{missing}"], ["test", "{missing}"], ["lint", "{missing}"],
    ["diff", "{missing}", str(ROOT / "rulesets" / "default")],
    ["simulate", "--baseline", "{missing}", "--candidate", "{missing}",
     str(ROOT / "examples" / "portfolio.csv")],
    ["decide", CUSTOMER, "--ruleset", "{missing}", "--no-audit"],
    ["batch", str(ROOT / "examples" / "portfolio.csv"), "--out", "{tmp}/r.jsonl",
     "--ruleset", "{missing}", "--no-audit"],
])
def test_a_missing_ruleset_folder_is_the_same_line_everywhere(credit, tmp_path, args):
    missing = tmp_path / "no-such-ruleset"
    result = credit(*[a.format(missing=missing, tmp=tmp_path) for a in args])
    assert result.exit_code == 1
    assert result.stderr == f"{missing}: not a ruleset folder (no such directory)\n"


@pytest.mark.parametrize("command", ["validate", "test", "lint"])
def test_a_folder_without_a_manifest_is_the_same_line(credit, tmp_path, command):
    result = credit(command, tmp_path)
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path}: not a ruleset folder (no ruleset.yaml in it)\n"


@pytest.mark.parametrize(("args", "name"), [
    (["decide", "{missing}.json", "--no-audit"], "{missing}.json"),
    (["batch", "{missing}.csv", "--out", "{tmp}/r.jsonl", "--no-audit"], "{missing}.csv"),
    (["events", "ingest", "{missing}.jsonl"], "{missing}.jsonl"),
])
def test_a_missing_input_file_is_the_same_line_everywhere(credit, tmp_path, args, name):
    missing = tmp_path / "no-such-file"
    result = credit(*[a.format(missing=missing, tmp=tmp_path) for a in args])
    assert result.exit_code == 1
    assert result.stderr == f"{name.format(missing=missing)}: No such file or directory\n"


def test_lint_findings_are_problems_in_files_on_stderr(credit, tmp_path):
    import shutil

    folder = tmp_path / "ruleset"
    shutil.copytree(ROOT / "rulesets" / "default", folder)
    policy = folder / "policy.yaml"
    policy.write_text(policy.read_text().replace("payment_term_days: 60", "payment_term_days: 30",
                                                 1))
    result = credit("lint", folder)
    assert result.stdout.strip().endswith("warnings")
    assert result.stdout.count("\n") == 1
    assert all(line.startswith(f"{folder}/") for line in result.stderr.splitlines())
    assert result.stderr


def test_shell_completion_knows_the_commands(tmp_path):
    """What the guide's completion line relies on: click completes every command, the
    lazily loaded ones included."""
    import subprocess

    from tests.credit_cli import CREDIT

    def complete(words: str, index: int) -> str:
        return subprocess.run(CREDIT, cwd=ROOT, capture_output=True, text=True, env={
            "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "_CREDIT_COMPLETE":
            "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(index)},
            timeout=60).stdout

    assert complete("credit au", 1).split() == ["plain,audit"]
    assert complete("credit audit ve", 2).split() == ["plain,verify"]


@pytest.mark.parametrize("args", [
    ["decide", CUSTOMER, "--no-audit", "--as-of", "{day}"],
    ["exposure", "C-1", "--db", "{tmp}/none.db", "--as-of", "{day}"],
    ["monitor", "--db", "{tmp}/none.db", "--as-of", "{day}"],
])
@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31"])
def test_a_day_at_the_ends_of_the_calendar_is_a_usage_error_not_an_overflow(
        credit, tmp_path, args, day):
    result = credit(*[a.format(day=day, tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert f"{day} is outside the days the engine works with (1900-01-01 to 9000-12-31)" \
        in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

"""The guide's worked example of signed checkpoints and proofs (docs/auditing.md) runs as
written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

from tests.credit_cli import CREDIT
from tests.paths import ROOT

README = (ROOT / "docs" / "auditing.md").read_text(encoding="utf-8")


def example_commands() -> list[tuple[list[str], str | None]]:
    """Each command of the example block, with the '# ok: ...' line shown after it."""
    start = README.index("A worked example (`tests/test_guide_checkpoints.py`")
    block = README[README.index("```sh\n", start) + 6:README.index("```", README.index(
        "```sh\n", start) + 6)]
    commands: list[tuple[list[str], str | None]] = []
    text = block.replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith("# "):
            commands[-1] = (commands[-1][0], line[2:])
        elif line.strip():
            commands.append((shlex.split(line, comments=True), None))
    return commands


def test_the_worked_example_runs_and_prints_what_it_says(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    commands = example_commands()
    assert [c[0][:3] for c in commands] == [
        ["credit", "audit", "keygen"], ["credit", "batch", "examples/portfolio.csv"],
        ["credit", "audit", "head"], ["credit", "audit", "verify"],
        ["credit", "audit", "prove"], ["credit", "audit", "check-proof"]]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CREDIT_NO_ENTRY_POINTS": "1",
           "CREDIT_RULESET": str(ROOT / "rulesets" / "default")}
    for argv, shown in commands:
        done = subprocess.run([*CREDIT, *argv[1:]], cwd=tmp_path, capture_output=True,
                              text=True, env=env, timeout=300)
        assert done.returncode == 0, (argv, done.stderr)
        if shown is not None:  # '...' stands for hashes, ids and times
            pattern = ".*".join(re.escape(part) for part in shown.split("..."))
            assert re.fullmatch(pattern, done.stdout.strip()), (shown, done.stdout)
    assert (tmp_path / "credit-audit.db.checkpoint-1003.json").exists()

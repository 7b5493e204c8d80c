"""Running the ``credit`` command: in process through click's CliRunner
(``invoke_credit``), or the command line for a fresh interpreter (``CREDIT``)."""

from __future__ import annotations

import sys

from click.testing import CliRunner, Result

from engine.cli.main import cli

# The command line of `credit` in a fresh interpreter (no reliance on the venv's script).
CREDIT = [sys.executable, "-c", "from engine.cli.main import main; main()"]


def invoke_credit(*args: object, env: dict | None = None, stdin: str | None = None
                  ) -> Result:
    """Run ``credit ARGS`` in process (each argument turned into a string), with ``env``
    added to the environment and ``stdin`` as standard input; the result has exit_code,
    stdout, stderr and output."""
    return CliRunner().invoke(cli, [str(arg) for arg in args], env=env, input=stdin)


def credit_stdout(*args: object) -> str:
    """What ``credit ARGS`` prints, asserting it succeeded (for building test trails)."""
    result = invoke_credit(*args)
    assert result.exit_code == 0, result.output
    return result.stdout

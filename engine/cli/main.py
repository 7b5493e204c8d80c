"""The ``credit`` command: a thin layer over the Python API.

Errors are one line on stderr: exit 2 for usage errors, 1 for failed checks and bad data.
No traceback reaches a user (set CREDIT_DEBUG=1 to see one for an unexpected error).
"""

from __future__ import annotations

import os
import sys

import click

from ..enrich.customer_documents import InputError
from ..errors import CreditRulesError, ProblemsError
from ..version import __version__
from .audit_commands import register as register_audit_commands
from .decide_commands import batch, decide_command
from .events_commands import events_group
from .lint_command import lint_command
from .monitor_command import monitor_command
from .override_commands import override as override_group
from .plugin_commands import plugins_command, register_plugin_commands
from .ruleset_commands import test_command, validate
from .simulate_commands import diff_command, simulate_command


class CreditGroup(click.Group):
    """A click group whose errors are single lines and never tracebacks."""

    def main(self, args=None, prog_name=None, complete_var=None, **extra):
        extra.pop("standalone_mode", None)
        try:
            result = super().main(args=args, prog_name=prog_name or "credit",
                                  complete_var=complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(2)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(f"{exc.format_message()}{hint}", 2)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except ProblemsError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(1)
        except InputError as exc:
            for line in exc.lines():
                click.echo(line, err=True)
            sys.exit(1)
        except CreditRulesError as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(1)
        except Exception as exc:  # the promise is: no traceback reaches a user
            if os.environ.get("CREDIT_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set CREDIT_DEBUG=1 for "
                  "details)", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo(f"credit: error: {message}", err=True)
    sys.exit(code)


@click.group(cls=CreditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="credit-rules")
def cli() -> None:
    """credit-rules: admission, grading and credit policy for business customers."""


register_audit_commands(cli)
for command in (validate, test_command, lint_command, diff_command, simulate_command,
                decide_command, batch, events_group, monitor_command, override_group,
                plugins_command):
    cli.add_command(command)


def main() -> None:
    """Entry point of the ``credit`` command."""
    register_plugin_commands(cli)
    cli.main()

"""The ``credit`` command: a thin layer over the Python API.

Errors are one line on stderr: exit 2 for usage errors, 1 for failed checks and bad data.
No traceback reaches a user (set CREDIT_DEBUG=1 to see one for an unexpected error).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from ..errors import CreditRulesError, InputError, ProblemsError
from ..version import __version__

# Every built-in command, imported only when it is run (or help lists it), so that
# 'credit --version' and a one-shot command load no more than they use.
COMMANDS = {
    "validate": "ruleset_commands:validate", "test": "ruleset_commands:test_command",
    "lint": "lint_command:lint_command", "diff": "simulate_commands:diff_command",
    "simulate": "simulate_commands:simulate_command",
    "decide": "decide_command:decide_command", "batch": "batch_command:batch",
    "spark-batch": "spark_commands:spark_batch",
    "events": "events_commands:events_group", "monitor": "monitor_command:monitor_command",
    "override": "override_commands:override", "plugins": "plugin_commands:plugins_command",
    "audit": "audit_commands:audit", "replay": "audit_commands:replay_command",
    "review": "audit_commands:review_command",
    "exposure": "orders_commands:exposure_command",
    "check-order": "orders_commands:check_order_command",
    "orders": "orders_commands:orders_command", "order": "orders_commands:order_group",
    "limit": "orders_commands:limit_group", "group": "orders_commands:group_group",
    "hold": "orders_commands:hold_group",
    "serve": "serve_commands:serve_group",
    "report": "report_commands:report_command",
    "rescore": "rescore_command:rescore_command",
    "dmn": "dmn_commands:dmn_group",
    "letters": "dunning_commands:letters_command",
    "statements": "dunning_commands:statements_command",
    "cases": "cases_command:cases_command",
    "explain": "explain_command:explain_command",
}


class CreditGroup(click.Group):
    """A click group whose errors are single lines and never tracebacks. Its built-in
    commands (``lazy``: name -> "module:attribute" in engine.cli) are imported when first
    asked for; plugins' commands are added the first time a name is not a built-in one."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})
        self._plugins_asked = False

    def get_command(self, ctx, name: str):
        if name not in self.commands and name in self.lazy:
            module, _, attribute = self.lazy[name].partition(":")
            self.add_command(getattr(importlib.import_module(f"engine.cli.{module}"),
                                     attribute), name)
        if name not in self.commands and name not in self.lazy:
            self._add_plugin_commands()
        return self.commands.get(name)

    def list_commands(self, ctx) -> list[str]:
        self._add_plugin_commands()
        return sorted({*self.commands, *self.lazy})

    def _add_plugin_commands(self) -> None:
        if not self._plugins_asked:
            self._plugins_asked = True
            from .plugin_commands import register_plugin_commands

            register_plugin_commands(self)

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


@click.group(cls=CreditGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="credit-rules")
def cli() -> None:
    """credit-rules: admission, grading and credit policy for business customers."""


def main() -> None:
    """Entry point of the ``credit`` command."""
    cli.main()

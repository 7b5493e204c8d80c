"""Options several ``credit`` commands share, defined once."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from ..dates import parse_day
from ..paths import DEFAULT_RULESET


def default_ruleset() -> str:
    """The ruleset used when --ruleset is not given: $CREDIT_RULESET or the shipped one."""
    return os.environ.get("CREDIT_RULESET") or str(DEFAULT_RULESET)



def use_audit_file(db_path: str | None) -> None:
    """Make --db the audit file for plugins too (the overrides register reads it through
    $CREDIT_DB, in this process and in worker processes)."""
    if db_path:
        os.environ["CREDIT_DB"] = db_path


def needs_extra(what: str, modules: tuple[str, ...], extra: str) -> None:
    """A usage of an optional extra: one line saying what to install when its ``modules``
    are not there (looked for, not imported)."""
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise click.ClickException(f"{what} needs {' and '.join(missing)}: pip install "
                                   f"'credit-rules[{extra}]'")


def parse_date(ctx, param, value: str | None) -> dt.date | None:
    """A click callback: YYYY-MM-DD to a date (a usage error otherwise)."""
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


db_option = click.option(
    "--db", "db_path", metavar="FILE", envvar="CREDIT_DB", default=None,
    help="Audit file (default: $CREDIT_DB, else credit-audit.db in this folder).")
no_audit_option = click.option(
    "--no-audit", is_flag=True, help="Do not write to the audit trail (a dry run).")
ruleset_option = click.option(
    "--ruleset", "ruleset_dir", metavar="DIR", default=None,
    help="Ruleset folder (default: $CREDIT_RULESET or the shipped rulesets/default).")
as_of_option = click.option(
    "--as-of", "as_of", metavar="DATE", callback=parse_date,
    help="Decision date, YYYY-MM-DD (default: today, recorded in the output).")


class Amount(click.ParamType):
    """A decimal amount from 0 to 10^15, read exactly (never through a float)."""

    name = "amount"

    def convert(self, value, param, ctx) -> str:
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal amount", param, ctx)
        if not amount.is_finite() or not 0 <= amount <= Decimal(10) ** 15:
            self.fail(f"{value!r} is not an amount from 0 to 10^15", param, ctx)
        return format(amount, "f")


def check_html_out(path: str, option: str, what: str, inputs: tuple = ()) -> None:
    """Say what is wrong with an HTML page to write before any work: Jinja2 (the
    ``report`` extra) missing, ``path`` a folder, one of the command's ``inputs`` (the
    audit file, the portfolio), or any SQLite file (an audit trail is never overwritten
    by a typo). ``what`` names the command or option that needs it."""
    try:
        import jinja2  # noqa: F401 - only to say what is missing before the work
    except ModuleNotFoundError:
        raise click.ClickException(f"{what} needs Jinja2: pip install "
                                   "'credit-rules[report]'") from None
    target = Path(path)
    if target.is_dir():
        raise click.BadParameter(f"'{path}' is a folder", param_hint=f"'{option}'")
    if not target.exists():
        return
    for given in inputs:
        if given is not None and Path(given).exists() and target.samefile(given):
            raise click.BadParameter(f"'{path}' is the command's input {given}: writing "
                                     "the page there would destroy it",
                                     param_hint=f"'{option}'")
    try:
        with target.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return  # (writing it will say what is wrong)
    if head == b"SQLite format 3\x00":
        raise click.BadParameter(f"'{path}' is an SQLite file (an audit trail?): it is "
                                 "never overwritten; choose another file",
                                 param_hint=f"'{option}'")

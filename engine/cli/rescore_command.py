"""``credit rescore``: a thin layer over ``engine.monitor.rescore``."""

from __future__ import annotations

import click

from ..audit.store import AuditStore, default_db_path
from ..monitor.rescore import rescore
from ..ruleset.loader import load_ruleset
from .options import db_option, default_ruleset, parse_date, ruleset_option
from .output import format_rows, output_options
from .render import counted

COLUMNS = ("customer_id", "why", "grade_before", "grade_after", "credit_limit_before",
           "credit_limit_after", "outcome", "decision_id")


@click.command("rescore")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date, required=True,
              help="Rescore date, YYYY-MM-DD: reviews due by it and events up to it count, "
                   "and the new decisions are dated on it.")
@click.option("--dry-run", is_flag=True,
              help="Decide, but append nothing to the audit trail.")
@ruleset_option
@db_option
@output_options(streams=True)
def rescore_command(as_of, dry_run: bool, ruleset_dir, db_path, fmt: str) -> None:
    """Grade again the customers due for it: review due, or arrears older.

    A customer is due when its review interval has run out, or when its arrears moved
    into a later ageing bucket since its latest decision. Each is decided on its latest
    decision's input with its account's payment behaviour put in (as the monitor's
    re-grade does), as of the date, and the decision is recorded as any other. Running
    again for the same date decides no one twice. Exits 1 when the rules could not
    decide a customer (the others are recorded).

    Examples:

    \b
      credit rescore --as-of 2026-11-30
      credit rescore --as-of 2026-11-30 --dry-run --csv > rescore.csv
    """
    ruleset = load_ruleset(ruleset_dir or default_ruleset())
    with AuditStore(db_path or default_db_path(), create=False) as store:
        report = rescore(store, ruleset, as_of, record=not dry_run)
    rows = [{**item.to_dict(), "why": "; ".join(item.reasons)} for item in report.rescored]
    if fmt not in ("json", "nl"):
        rows = [{**row, "decision_id": row["decision_id"] or f"error: {row['error']}"}
                for row in rows]
    for line in format_rows(rows, COLUMNS, fmt):
        click.echo(line)
    moved = sum(item.grade_after != item.grade_before for item in report.rescored
                if item.error is None)
    click.echo(f"credit: {counted(len(report.rescored), 'customer')} of "
               f"{report.customers:,} rescored as of {as_of.isoformat()} "
               f"({moved:,} changed grade"
               f"{', ' + str(report.failed) + ' could not be decided' if report.failed else ''})"
               f"{'; not recorded (dry run)' if dry_run else ''}", err=True)
    if report.failed:
        raise SystemExit(1)

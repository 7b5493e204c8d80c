"""``credit cases``: a thin layer over ``engine.monitor.case_list``."""

from __future__ import annotations

import click

from ..audit.store import AuditStore, default_db_path
from ..monitor.case_list import CASE_COLUMNS, list_cases
from ..ruleset.loader import load_ruleset
from .options import db_option, default_ruleset, parse_date, ruleset_option
from .output import format_rows, output_options
from .render import counted, money


@click.command("cases")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date, required=True,
              help="The day, YYYY-MM-DD: events up to it count.")
@click.option("--customer", "customer_id", metavar="ID", help="One customer's cases only.")
@ruleset_option
@db_option
@output_options
def cases_command(as_of, customer_id: str | None, ruleset_dir, db_path, fmt: str) -> None:
    """Disputes, promises to pay and instalment plans, from the event log.

    Lists the open cases on the date and those closed in the 90 days before it, with
    their owner and status: a dispute open, resolved for the customer or for us,
    withdrawn, or refused (with why); a promise or an instalment plan open, kept, broken
    or replaced (its next part's date and amount, and what was paid towards it; a part
    broken before the plan was replaced stays broken). Amounts are to the cent.

    Examples:

    \b
      credit cases --as-of 2026-11-30
      credit cases --as-of 2026-11-30 --customer CUST-10004 --json
    """
    ruleset = load_ruleset(ruleset_dir or default_ruleset())
    with AuditStore(db_path or default_db_path(), create=False) as store:
        rows = list_cases(store, ruleset, as_of, customer_id)
    shown = rows if fmt != "table" else [
        {**row, "amount": row["amount"] and money(row["amount"])} for row in rows]
    for line in format_rows(shown, CASE_COLUMNS, fmt):
        click.echo(line)
    open_cases = sum(row["status"].startswith("open") for row in rows)
    click.echo(f"credit: {counted(len(rows), 'case')} as of {as_of.isoformat()} "
               f"({open_cases:,} open)", err=True)

"""``credit report``: the trail as one HTML page for analysts and auditors. A thin layer
over ``engine.report``."""

from __future__ import annotations

import sys

import click

from ..audit.store import AuditStore, default_db_path
from .options import check_html_out, db_option, parse_date


@click.command("report")
@click.option("--out", "out", required=True, metavar="FILE",
              help="The HTML file to write (replaced if it exists).")
@click.option("--from", "since", metavar="DATE", callback=parse_date,
              help="First decision date of the period, YYYY-MM-DD (default: the trail's "
                   "first).")
@click.option("--to", "until", metavar="DATE", callback=parse_date,
              help="Last decision date of the period, YYYY-MM-DD (default: the trail's "
                   "last); accounts are folded as of this day.")
@db_option
def report_command(out: str, since, until, db_path) -> None:
    """Write an HTML report of the audit trail.

    One self-contained file (charts as inline SVG, sortable tables, nothing fetched from
    the network): grades, limits by grade, admission outcomes and reasons, grade
    migration, overrides, monitor actions, ageing and limit use of the accounts, order
    checks and releases, rule coverage, and the head and verify result of the trail it
    was drawn from. Exit 1 when the trail fails verification (the report is still
    written, saying so at the top).

    Examples:

    \b
      credit report --out report.html
      credit report --out q3.html --from 2026-07-01 --to 2026-09-30
    """
    db = db_path or default_db_path()
    check_html_out(out, "--out", "credit report", (db,))
    from ..report.page import write_report

    with AuditStore(db, create=False) as store:
        try:
            data = write_report(store, out, since, until)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") \
                from None
    trail = data["trail"]
    period = data["period"]
    click.echo(f"{out}: {data['count']:,} decisions of {data['customers']:,} customers from "
               f"{period['from']} to {period['to']}; trail head {_short(trail['head'])}")
    if not trail["verified"]:
        click.echo(f"credit: error: the trail failed verification ({trail['failure']}); "
                   "the report says so at the top", err=True)
        sys.exit(1)
    click.echo(f"verified: {trail['checked']:,} records, chain intact")


def _short(head: str) -> str:
    """A head (seq:hash) with the first 12 characters of its hash, as a person quotes it."""
    seq, _, digest = head.partition(":")
    return f"{seq}:{digest[:12]}"

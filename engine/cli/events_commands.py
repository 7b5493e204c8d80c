"""``credit events ingest``: account events into the event log of the audit file."""

from __future__ import annotations

import json
import sys

import click

from ..audit.events import ingest_events
from ..audit.store import AuditStore, default_db_path
from ..enrich.portfolio import estimate_rows
from .options import db_option
from .output import format_rows, output_options
from .progress import progress
from .render import counted


@click.group("events")
def events_group() -> None:
    """Account events: invoices, payments, promises, disputes, alerts, orders.

    Examples:

    \b
      credit events ingest examples/events.jsonl
    """


@events_group.command("ingest")
@click.argument("events_file", metavar="FILE.jsonl")
@db_option
@click.option("--commit-every", type=click.IntRange(1, None), default=1000,
              show_default=True, help="Events written per transaction.")
@output_options
def events_ingest(events_file: str, db_path: str | None, commit_every: int, fmt: str) -> None:
    """Check and append events to the event log in the audit file.

    An event id seen before is reported and skipped; a bad line is reported with its line
    number and skipped; exit 1 when any line was bad.

    Examples:

    \b
      credit events ingest examples/events.jsonl
      credit events ingest today.jsonl --db /var/credit/audit.db
    """
    meter = progress("ingesting lines", estimate_rows(events_file), fmt)

    def bad(message: str) -> None:
        meter.clear()
        click.echo(message, err=True)

    with AuditStore(db_path or default_db_path()) as store:
        try:
            report = ingest_events(store, events_file, commit_every=commit_every,
                                   on_bad=bad, on_progress=meter.update)
        finally:
            meter.finish()
    row = {"ingested": report.ingested, "already_seen": len(report.duplicates),
           "bad_line_problems": len(report.bad)}
    if fmt == "json":
        click.echo(json.dumps(row))
    elif fmt == "csv":
        for line in format_rows([row], tuple(row), "csv"):
            click.echo(line)
    else:
        click.echo(f"ingested {counted(report.ingested, 'event')}; skipped "
                   f"{len(report.duplicates):,} already seen; "
                   f"{counted(len(report.bad), 'problem')} in bad lines")
    if report.bad:
        sys.exit(1)

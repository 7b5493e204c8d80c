"""``credit letters`` and ``credit statements``: thin layers over ``engine.dunning``."""

from __future__ import annotations

from collections import Counter

import click

from ..audit.store import AuditStore, default_db_path
from ..dunning.writing import WRITTEN, WriteReport, write_letters, write_statements
from ..ruleset.loader import load_ruleset
from .options import db_option, default_ruleset, parse_date, ruleset_option
from .output import format_rows, output_options
from .render import counted

COLUMNS = ("date", "customer_id", "document", "status", "language", "total", "file",
           "sha256", "note")
OUT_HELP = "The folder the files are written to (made when missing)."


@click.command("letters")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date, required=True,
              help="Letters for the collections steps taken on or before this date, "
                   "YYYY-MM-DD.")
@click.option("--out", "out", metavar="DIR", type=click.Path(), required=True, help=OUT_HELP)
@ruleset_option
@db_option
@output_options
def letters_command(as_of, out: str, ruleset_dir, db_path, fmt: str) -> None:
    """Write a dunning letter for each collections step the monitor took.

    One file per letter, from the ruleset's templates (letters/LANGUAGE/STEP.html.j2, in
    the customer's language, else English), with the overdue invoices (a partly disputed
    one for its undisputed part), the late-payment interest and compensation by the terms
    of the ruleset that took the step, and the total due; each is recorded in the audit
    trail with the SHA-256 of its bytes. A step recorded before is not recorded again and
    its file, when there, is left alone; a step without a template gets no letter, and a
    dunning block leaves the customer or its invoices out. Exits 1 when the missing file
    of a letter recorded before now renders other bytes.

    Examples:

    \b
      credit letters --as-of 2026-11-30 --out letters
      credit letters --as-of 2026-11-30 --out letters --json
    """
    folder = ruleset_dir or default_ruleset()
    ruleset = load_ruleset(folder)
    with AuditStore(db_path or default_db_path(), create=False) as store:
        report = write_letters(store, ruleset, folder, as_of, out, label=ruleset_dir)
    _show(report, fmt, "letter")


@click.command("statements")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date, required=True,
              help="Statement date, YYYY-MM-DD: open items and the balance on it.")
@click.option("--since", "since", metavar="DATE", callback=parse_date,
              help="First day of the period whose payments are listed (default: the first "
                   "day of the --as-of month).")
@click.option("--out", "out", metavar="DIR", type=click.Path(), required=True, help=OUT_HELP)
@ruleset_option
@db_option
@output_options
def statements_command(as_of, since, out: str, ruleset_dir, db_path, fmt: str) -> None:
    """Write each customer's account statement on a date (the periodic reconciliation).

    One file per customer with open items, unapplied cash or payments in the period:
    the open items with their days overdue, the payments received, and the balance,
    from the ruleset's template (letters/LANGUAGE/statement.html.j2), each recorded in
    the audit trail with the SHA-256 of its bytes. Running again for the same date and
    period records nothing twice (another --since is another statement). Exits 1 when the
    missing file of a statement recorded before now renders other bytes.

    Examples:

    \b
      credit statements --as-of 2026-11-30 --out statements
      credit statements --as-of 2026-12-31 --since 2026-10-01 --out statements
    """
    if since is not None and since > as_of:
        raise click.UsageError(f"--since {since.isoformat()} is after --as-of "
                               f"{as_of.isoformat()}: the period ends on the statement date")
    folder = ruleset_dir or default_ruleset()
    ruleset = load_ruleset(folder)
    with AuditStore(db_path or default_db_path(), create=False) as store:
        report = write_statements(store, ruleset, folder, as_of, out, since=since,
                                  label=ruleset_dir)
    _show(report, fmt, "statement")


def _show(report: WriteReport, fmt: str, noun: str) -> None:
    rows = [item.to_dict() for item in report.documents]
    for line in format_rows(rows, COLUMNS, fmt):
        click.echo(line)
    statuses = Counter(item.status for item in report.documents)
    others = ", ".join(f"{count:,} {status}" for status, count in sorted(statuses.items())
                       if status != WRITTEN)
    fallbacks = sum(item.fallback is not None for item in report.documents)
    click.echo(f"credit: {counted(statuses[WRITTEN], noun)} written and recorded "
               f"as of {report.as_of.isoformat()} into {report.out}"
               + (f"; {others}" if others else "")
               + (f"; {fallbacks:,} not in the customer's language (no template in it)"
                  if fallbacks else ""), err=True)
    for item in report.differing:
        click.echo(f"credit: {item.file}: {item.note}", err=True)
    if report.differing:
        raise SystemExit(1)

"""``credit diff`` and ``credit simulate``: what a ruleset change is, and what it would do
to the customers. A thin layer over ``engine.quality``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal

import click

from ..audit.queries import Filters
from ..audit.store import default_db_path
from ..enrich.portfolio import estimate_rows
from ..quality.ruleset_diff import diff_rulesets
from ..quality.simulate import simulate_audit, simulate_portfolio
from ..quality.simulation_report import TABLES, Simulation
from ..ruleset.source import load_ruleset_source
from .options import as_of_option, check_html_out, db_option, parse_date, use_audit_file
from .output import format_rows, output_options
from .progress import progress

TITLES = {"migration": "Grade migration (rows: baseline grade, columns: candidate grade)",
          "outcomes": "Admission outcomes that change",
          "limits": "Granted limits by grade (accepted decisions)",
          "movers": "Customers that move the most"}


def _identity(side: dict) -> str:
    return f"{side['name']} {side['version']} ({side['hash'][:12]})"


@click.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@output_options
def diff_command(old: str, new: str, fmt: str) -> None:
    """What changed between two ruleset folders, rule by rule and row by row.

    One sentence per change (added, removed, changed, moved); exit 0 whether or not
    there are differences.

    Examples:

    \b
      credit diff rulesets/default rulesets/candidate
      credit diff old/ new/ --json
    """
    result = diff_rulesets(load_ruleset_source(old), load_ruleset_source(new))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        for line in format_rows((c.to_dict() for c in result.changes),
                                ("stage", "kind", "where", "text"), "csv"):
            click.echo(line)
        return
    count = len(result.changes)
    summary = f"{count} difference{'' if count == 1 else 's'}" if count else "no differences"
    click.echo(f"{_identity(result.old)} → {_identity(result.new)}: {summary}")
    for change in result.changes:
        click.echo(change.text)


@click.command("simulate")
@click.argument("portfolio", required=False, metavar="[PORTFOLIO.(csv|jsonl)]")
@click.option("--baseline", "baseline_dir", required=True, metavar="DIR",
              help="The ruleset in force (folder).")
@click.option("--candidate", "candidate_dir", required=True, metavar="DIR",
              help="The ruleset to try (folder).")
@click.option("--from-audit", is_flag=True,
              help="Decide the customers of the audit trail again, from the latest recorded "
                   "decision of each (its recorded input and as-of date; no plugin asked).")
@db_option
@click.option("--since", callback=parse_date, metavar="DATE",
              help="With --from-audit: decided on or after.")
@click.option("--until", callback=parse_date, metavar="DATE",
              help="With --from-audit: decided on or before.")
@click.option("--customer", help="With --from-audit: only this customer id.")
@click.option("--ruleset-id", "recorded_ruleset", metavar="NAME[@VERSION]|HASH",
              help="With --from-audit: only decisions recorded under this ruleset.")
@as_of_option
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Number of worker processes.")
@click.option("--top", type=click.IntRange(0, None), default=20, show_default=True,
              help="How many of the customers that move the most to list.")
@click.option("--show", "table", type=click.Choice(TABLES),
              help="Only this table (needed with --csv).")
@click.option("--html", "html_out", metavar="FILE",
              help="Also write the four tables as one self-contained HTML page (the "
                   "migration matrix as a heatmap), in the look of credit report.")
@output_options
def simulate_command(portfolio: str | None, baseline_dir: str, candidate_dir: str,
                     from_audit: bool, db_path: str | None, since: dt.date | None,
                     until: dt.date | None, customer: str | None,
                     recorded_ruleset: str | None, as_of: dt.date | None, workers: int,
                     top: int, table: str | None, html_out: str | None, fmt: str) -> None:
    """Decide every customer under a baseline and a candidate ruleset and report what moves.

    Reports the grade migration matrix, the admission outcomes that change, granted limits
    by grade and the customers that move the most. Customers come from a portfolio (as
    credit batch reads it, enriched once and decided twice) or, with --from-audit, from
    the audit trail. Nothing is written to the audit trail. Exits 1 when any customer could
    not be read or decided.

    Examples:

    \b
      credit simulate --baseline rulesets/default --candidate new/ examples/portfolio.csv
      credit simulate --baseline rulesets/default --candidate new/ --from-audit --since 2026-01-01
      credit simulate --baseline rulesets/default --candidate new/ portfolio.csv --html sim.html
    """
    filters = {"--since": since, "--until": until, "--customer": customer,
               "--ruleset-id": recorded_ruleset}
    if from_audit and portfolio:
        raise click.UsageError("give a PORTFOLIO or --from-audit, not both")
    if not from_audit and not portfolio:
        raise click.UsageError("give a PORTFOLIO file or --from-audit")
    used = [name for name, value in filters.items() if value is not None]
    if used and not from_audit:
        raise click.UsageError(f"{', '.join(used)} filter the audit trail: only with "
                               "--from-audit")
    if from_audit and as_of is not None:
        raise click.UsageError("--as-of is for a portfolio; with --from-audit each record "
                               "is decided as of its own date")
    if fmt == "csv" and table is None:
        raise click.UsageError(f"--csv writes one table: choose it with --show "
                               f"({'|'.join(TABLES)})")
    if html_out is not None:
        check_html_out(html_out, "--html", "--html",
                       (portfolio, db_path or default_db_path() if from_audit else None))
    problems = 0
    meter = progress("simulating customers",
                     None if from_audit else estimate_rows(portfolio), fmt)

    def report(messages: list[str]) -> None:
        nonlocal problems
        problems += 1
        meter.clear()
        for message in messages:
            click.echo(message, err=True)

    try:
        if from_audit:
            simulation = simulate_audit(
                db_path or default_db_path(), baseline_dir, candidate_dir,
                Filters(customer=customer, since=since, until=until,
                        ruleset=recorded_ruleset),
                workers=workers, top=top, on_error=report, on_progress=meter.update)
        else:
            use_audit_file(db_path)  # where enrichment reads the expert overrides register
            simulation = simulate_portfolio(portfolio, baseline_dir, candidate_dir,
                                            as_of or dt.date.today(), workers=workers,
                                            top=top, on_error=report,
                                            on_progress=meter.update)
    finally:
        meter.finish()
    _print(simulation, table, fmt)
    if html_out is not None:
        from ..report.simulation_page import write_simulation_report

        try:
            write_simulation_report(simulation, html_out)
        except OSError as exc:
            raise click.ClickException(f"cannot write {html_out}: "
                                       f"{exc.strerror or exc}") from None
    if problems:
        sys.exit(1)


def _print(simulation: Simulation, table: str | None, fmt: str) -> None:
    if fmt == "json" and table is None:
        click.echo(json.dumps(simulation.to_dict(), indent=2, ensure_ascii=False))
        return
    if table is not None:
        for line in format_rows(simulation.rows(table), simulation.columns(table), fmt):
            click.echo(line)
        return
    for line in _summary_lines(simulation):
        click.echo(line)
    for name in TABLES:
        rows = simulation.rows(name)
        click.echo("")
        click.echo(TITLES[name] + (f" (top {simulation.top})" if name == "movers" else ""))
        if not rows:
            click.echo("  none")
            continue
        for line in format_rows(rows, simulation.columns(name), "table"):
            click.echo("  " + line)


def _amount(text: str, spec: str = ",f") -> str:
    """Decimal text with thousands separators, for people."""
    return format(Decimal(text), spec)


def _summary_lines(simulation: Simulation) -> list[str]:
    data = simulation.summary()
    granted, referred = data["granted"], data["referred"]
    lines = [
        f"Baseline   {_identity(simulation.baseline)}",
        f"Candidate  {_identity(simulation.candidate)}",
        f"Customers  {data['customers']:,} from {simulation.source}"
        + (f"; {data['unreadable']:,} unreadable" if data["unreadable"] else ""),
        f"Grades     {data['unchanged']:,} unchanged, {data['upgraded']:,} better, "
        f"{data['downgraded']:,} worse (a rejection counts as worse than any grade)"
        + (f", {data['other_moves']:,} decided on one side only" if data["other_moves"]
           else ""),
        f"Outcomes   {data['outcome_changed']:,} changed",
        f"Granted    {_amount(granted['old'])} → {_amount(granted['new'])} "
        f"{simulation.currency} (change {_amount(granted['change'], '+,f')})",
        f"Referred   {_amount(referred['old'])} → {_amount(referred['new'])} "
        f"{simulation.currency} (limits awaiting a person's decision)",
    ]
    not_decided = data["not_decided"]
    if not_decided["old"] or not_decided["new"]:
        lines.append(f"Undecided  {not_decided['old']:,} under the baseline, "
                     f"{not_decided['new']:,} under the candidate")
    return lines

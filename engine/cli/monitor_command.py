"""``credit monitor``: a thin layer over ``engine.monitor.run``."""

from __future__ import annotations

import click

from ..audit.checkpoints import checkpoint, load_private_key
from ..audit.store import AuditStore, default_db_path
from ..monitor.case_list import worklist_cases
from ..monitor.run import run_monitor
from ..ruleset.loader import load_ruleset
from .options import db_option, default_ruleset, parse_date, ruleset_option
from .output import format_rows, output_options
from .progress import progress
from .render import counted

ACTION_COLUMNS = ("date", "customer_id", "action", "what", "rule", "events")
WORKLIST_COLUMNS = ("customer_id", "overdue_amount", "days_overdue", "grade", "step_today",
                    "last_step", "days_since_last_step", "on_hold", "promise_broken",
                    "dispute_open", "balance", "dunning_block", "cases")


@click.command("monitor")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date, required=True,
              help="Run date, YYYY-MM-DD: events up to this date are read, and collections "
                   "steps due on it are taken.")
@click.option("--worklist", is_flag=True,
              help="Print the collections worklist for the date instead of the actions.")
@click.option("--dry-run", is_flag=True,
              help="Work out the actions but append nothing to the audit trail.")
@click.option("--checkpoint", "checkpoint_key", type=click.Path(dir_okay=False), metavar="KEY",
              help="At the end, sign the trail's head with this private key and keep the "
                   "statement beside the audit file (AUDIT_FILE.checkpoint-SIZE.json).")
@ruleset_option
@db_option
@output_options(streams=True)
def monitor_command(as_of, worklist: bool, dry_run: bool, checkpoint_key: str | None,
                    ruleset_dir, db_path, fmt: str) -> None:
    """Run the monitoring rules over the event log up to a date and take their actions.

    Escalations, credit holds and releases, re-grades and notifications are appended to
    the audit trail, each naming its rule and the events behind it. Running again for the
    same date takes no action twice. Time is event time and the run date, never the
    clock, so the same log and date give the same actions.

    Examples:

    \b
      credit monitor --as-of 2026-11-30
      credit monitor --as-of 2026-11-30 --worklist
      credit monitor --as-of 2026-11-30 --dry-run --csv > actions.csv
    """
    if checkpoint_key and dry_run:
        raise click.UsageError("--checkpoint signs what the run recorded: drop --dry-run")
    signer = load_private_key(checkpoint_key) if checkpoint_key else None
    ruleset = load_ruleset(ruleset_dir or default_ruleset())
    meter = progress("monitoring customers", None, fmt)
    with AuditStore(db_path or default_db_path(), create=False) as store:
        try:
            report = run_monitor(store, ruleset, as_of, record=not dry_run,
                                 progress=meter.update)
        finally:
            meter.finish()
        path = store.path
    if signer is not None:
        click.echo(f"credit: checkpoint {checkpoint(path, signer)}", err=True)
    if worklist:
        rows, columns = report.worklist, WORKLIST_COLUMNS
        if fmt not in ("json", "nl"):
            rows = [{**line, "cases": worklist_cases(line["cases"])} for line in rows]
    else:
        rows = [{**action, "what": _what(action), "events": " ".join(action["events"])}
                for action in report.actions] if fmt not in ("json", "nl") else report.actions
        columns = ACTION_COLUMNS
    for line in format_rows(rows, columns, fmt):
        click.echo(line)
    counts = ", ".join(f"{kind} {count:,}" for kind, count in report.counts().items())
    click.echo(f"credit: monitored {counted(report.customers, 'customer')}, "
               f"{counted(report.events, 'event')} "
               f"up to {as_of.isoformat()}: {counted(report.taken, 'action')}"
               f"{' (' + counts + ')' if counts else ''}"
               f"{' not recorded (dry run)' if dry_run else ''}; "
               f"{report.already_taken:,} taken by earlier runs; "
               + (f"{report.held_back:,} held back (seen by the last run); "
                  if report.held_back else "") +
               f"{counted(report.overdue_accounts, 'account')} overdue", err=True)


def _what(action: dict) -> str:
    """A few words on what the action did."""
    details = action["details"]
    kind = action["action"]
    if kind == "escalate":
        return f"{details['step']} ({details['position']['days_overdue']} days, " \
               f"{details['position']['overdue_amount']} overdue)"
    if kind == "regrade":
        if details["status"] != "done":
            return f"{details['status']}: {details['reason']}"
        return f"{details['grade_before']} -> {details['grade_after']}, limit " \
               f"{details['credit_limit_before']} -> {details['credit_limit_after']}"
    if kind == "hold":
        return f"hold ({details['reason']})"
    if kind == "release":
        return "released " + ", ".join(h["reason"] for h in details["released"])
    if kind == "close_escalation":
        return f"closed after {details['closed_step']}"
    if kind == "review" and "security_id" in details:
        return f"review: {details['kind'].replace('_', ' ')} {details['security_id']} " \
               f"expires {details['expires_on']}"
    return details.get("message", "")

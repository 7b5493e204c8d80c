"""``credit batch``: a whole portfolio, streamed, decided and audited."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from ..audit.checkpoints import checkpoint, load_private_key
from ..audit.store import AuditStore, default_db_path
from ..batch import DEFAULT_COMMIT_EVERY, RowError, run_batch
from ..enrich.plugin_manager import installed_plugins
from ..enrich.portfolio import estimate_rows
from ..ruleset.loader import load_ruleset
from ..service import listening, notify_recorded
from .options import (
    as_of_option,
    db_option,
    default_ruleset,
    no_audit_option,
    ruleset_option,
    use_audit_file,
)
from .progress import progress as progress_bar
from .render import summary_text


@click.command()
@click.argument("portfolio", metavar="PORTFOLIO.(csv|jsonl)")
@click.option("--out", "out", required=True, metavar="RESULTS.jsonl",
              help="Where to write the decisions, one JSON document per line (- for "
                   "standard output; the summary then goes to standard error).")
@ruleset_option
@as_of_option
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Number of worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--trace", "with_trace", is_flag=True,
              help="Write each decision's full trace to the results too (the audit trail "
                   "always has it).")
@click.option("--progress/--no-progress", default=None,
              help="Show progress on stderr (default: when stderr is a terminal).")
@db_option
@no_audit_option
@click.option("--commit-every", type=click.IntRange(1, None), default=DEFAULT_COMMIT_EVERY,
              show_default=True, help="Audit records written per transaction.")
@click.option("--checkpoint", "checkpoint_key", type=click.Path(dir_okay=False), metavar="KEY",
              help="At the end, sign the trail's head with this private key and keep the "
                   "statement beside the audit file (AUDIT_FILE.checkpoint-SIZE.json).")
@click.option("--resume", is_flag=True,
              help="Finish an interrupted run of this batch (same portfolio, ruleset and "
                   "as-of date) without deciding any customer twice.")
def batch(portfolio: str, out: str, ruleset_dir: str | None, as_of: dt.date | None,
          workers: int, as_json: bool, with_trace: bool, progress: bool | None,
          db_path: str | None, no_audit: bool, commit_every: int, checkpoint_key: str | None,
          resume: bool) -> None:
    """Decide every customer of a portfolio, streaming; bad rows are reported and skipped.

    Each decision is audited (unless --no-audit). Exits 1 when any row failed.

    Examples:

    \b
      credit batch examples/portfolio.csv --out results.jsonl --as-of 2025-12-31
      credit batch big.csv --out - --workers 2 > results.jsonl
      credit batch big.csv --out results.jsonl --resume
    """
    if checkpoint_key and no_audit:
        raise click.UsageError("--checkpoint signs the audit trail: drop --no-audit")
    signer = load_private_key(checkpoint_key) if checkpoint_key else None  # before deciding
    as_of = as_of or dt.date.today()
    folder = ruleset_dir or default_ruleset()
    meter = progress_bar("deciding", estimate_rows(portfolio),
                         "json" if as_json else "table", progress)

    def report(error: RowError) -> None:
        meter.clear()
        for message in error.messages:
            click.echo(message, err=True)

    use_audit_file(db_path)
    store = None if no_audit else AuditStore(db_path or default_db_path())
    try:
        plugins = installed_plugins()

        def tell_plugins(recorded: list[tuple]) -> None:
            for warning in notify_recorded(plugins, recorded):
                click.echo(f"credit: warning: {warning}", err=True)

        summary = run_batch(portfolio, out, folder, as_of, workers=workers, audit=store,
                            commit_every=commit_every, resume=resume, with_trace=with_trace,
                            on_error=report, on_progress=meter.update,
                            on_recorded=tell_plugins if listening(plugins) else None)
    finally:
        if store:
            store.close()
        meter.finish()
    signed = checkpoint(db_path or default_db_path(), signer) if signer else None
    data = summary.to_dict()
    data["as_of"] = as_of.isoformat()
    data["out"] = out
    data["audit"] = None if no_audit else (db_path or default_db_path())
    if signed:
        data["checkpoint"] = str(signed)
    to_stderr = out == "-"  # the results went to standard output: the summary goes aside
    if as_json:
        click.echo(json.dumps(data, sort_keys=True), err=to_stderr)
    else:
        grades = load_ruleset(folder).grades
        lines = [summary_text(data, grades),
                 f"Results    {'standard output' if to_stderr else out} "
                 f"(as of {as_of.isoformat()})"]
        if no_audit:
            lines.append("Audit      not audited (--no-audit)")
        else:
            resumed = f", {summary.resumed:,} from the interrupted run" if summary.resumed \
                else ""
            lines.append(f"Audit      {data['audit']}, batch {summary.batch_id}{resumed}")
        if signed:
            lines.append(f"Checkpoint {signed}")
        for line in lines:
            click.echo(line, err=to_stderr)
    if summary.failed:
        sys.exit(1)

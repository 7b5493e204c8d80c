"""The ``credit`` command: a thin layer over the Python API.

Errors are one line on stderr: exit 2 for usage errors, 1 for failed checks and bad data.
No traceback reaches a user (set CREDIT_DEBUG=1 to see one for an unexpected error).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import click

from . import __version__
from .audit import AuditStore, default_db_path
from .audit_record import decision_record
from .batch import DEFAULT_COMMIT_EVERY, RowError, run_batch
from .cases import load_cases, run_case
from .challenger import challenger_part, challenger_view
from .cli_audit import register as register_audit_commands
from .cli_lint import lint_command
from .cli_monitor import monitor_command
from .cli_options import (
    as_of_option,
    db_option,
    default_ruleset,
    no_audit_option,
    ruleset_option,
    use_audit_file,
)
from .cli_overrides import override as override_group
from .cli_simulate import diff_command, simulate_command
from .compiler import load_ruleset
from .coverage import coverage_lines, measure_coverage
from .customer import InputError, check_customer, parse_json_document
from .enrich import enrich
from .errors import CreditRulesError, ProblemsError
from .events import ingest_events
from .output import format_rows
from .pipeline import decide
from .plugin_manager import PluginCallError, installed_plugins, plugin_problems
from .render import decision_text, summary_text


class CreditGroup(click.Group):
    """A click group whose errors are single lines and never tracebacks."""

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


@click.group(cls=CreditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="credit-rules")
def cli() -> None:
    """credit-rules: admission, grading and credit policy for business customers."""


@cli.command()
@click.argument("ruleset", required=False, metavar="RULESET")
def validate(ruleset: str | None) -> None:
    """Check a ruleset folder: YAML, schemas, expressions, tables, bands.

    Prints one line per problem as FILE:LINE:COL: message and exits 1 when there is any.
    """
    folder = ruleset or default_ruleset()
    compiled = load_ruleset(folder)
    problems = plugin_problems(compiled, installed_plugins())
    if problems:
        raise ProblemsError(problems)
    click.echo(f"ok: {folder}: ruleset {compiled.name} {compiled.version}, "
               f"hash {compiled.hash[:16]}")


@cli.command("test")
@click.argument("ruleset", required=False, metavar="RULESET")
@click.option("--coverage", "with_coverage", is_flag=True,
              help="Also show how many cases reach each rule, table row, scorecard bin, "
                   "band, cap and floor, and list those no case reaches.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def test_command(ruleset: str | None, with_coverage: bool, as_json: bool) -> None:
    """Run a ruleset's own cases (RULESET/tests/*.yaml).

    Prints one line per failed case and a final line 'N passed, M failed'; exits 1 on any
    failure. --coverage adds, per stage, every rule with the number of cases reaching it.
    """
    folder = ruleset or default_ruleset()
    compiled = load_ruleset(folder)
    results = [run_case(compiled, case) for case in load_cases(folder)]
    failed = sum(not r.passed for r in results)
    skipped = [r for r in results if r.skipped]
    passed = len(results) - failed - len(skipped)
    coverage = measure_coverage(compiled, results) if with_coverage else None
    if as_json:
        data = {"passed": passed, "failed": failed, "skipped": len(skipped), "failures": [
            {"case": r.case.name, "location": str(r.case.location),
             "differences": r.differences} for r in results if not r.passed]}
        if coverage is not None:
            data["coverage"] = coverage.to_dict()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for result in results:
            if not result.passed:
                click.echo(f"{result.case.location}: FAILED {result.case.name}: "
                           + "; ".join(result.differences))
        if skipped:
            click.echo(f"skipped {len(skipped)} account cases: {skipped[0].skipped}")
        click.echo(f"{passed} passed, {failed} failed"
                   + (f", {len(skipped)} skipped" if skipped else ""))
        for line in coverage_lines(coverage) if coverage is not None else ():
            click.echo(line)
    if failed or not results:
        if not results:
            click.echo(f"credit: error: no test cases in {folder}/tests", err=True)
        sys.exit(1)


@cli.command("decide")
@click.argument("customer", metavar="CUSTOMER.json")
@ruleset_option
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option("--trace", "with_trace", is_flag=True, help="List every rule that fired.")
@db_option
@no_audit_option
def decide_command(customer: str, ruleset_dir: str | None, as_of: dt.date | None,
                   as_json: bool, with_trace: bool, db_path: str | None,
                   no_audit: bool) -> None:
    """Decide one customer document (a JSON file, or - for standard input).

    The decision is written to the audit trail unless --no-audit is given. When the
    ruleset names a challenger and the customer is in its split, the challenger decides
    too; its result is shown (not applied) and recorded beside the decision.
    """
    where = "<stdin>" if customer == "-" else customer
    text = _read_text(customer)
    doc = check_customer(parse_json_document(text, where), where)
    compiled = load_ruleset(ruleset_dir or default_ruleset())
    as_of = as_of or dt.date.today()
    use_audit_file(db_path)
    plugins = installed_plugins()
    enriched = enrich(compiled, doc, as_of, plugins)
    decision = decide(compiled, enriched.facts, as_of)
    beside = challenger_part(compiled, enriched.facts, as_of)
    data = decision.to_dict()
    view = challenger_view(compiled, beside)
    if view is not None:
        data["challenger"] = view
    if no_audit:
        note = "not audited (--no-audit)"
    else:
        path = db_path or default_db_path()
        with AuditStore(path) as store:
            store.store_ruleset(compiled)
            if beside is not None:
                store.store_ruleset(compiled.challenger.ruleset)
            record, _ = decision_record(decision, store.salt, plugins=enriched.plugins,
                                        enriched=enriched.enriched, challenger=beside)
            seq, digest = store.append([record])[0]
        note = f"audited as record {seq} in {path}"
        notify_recorded(plugins, [(seq, digest, record, decision.summary())])
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        click.echo(f"credit: {note}", err=True)
    else:
        click.echo(decision_text(data, with_trace=with_trace))
        click.echo(f"Audit      {note}")


@cli.group("events")
def events_group() -> None:
    """Account events: invoices, payments, promises, disputes, alerts, orders."""


@events_group.command("ingest")
@click.argument("events_file", metavar="FILE.jsonl")
@db_option
@click.option("--commit-every", type=click.IntRange(1, None), default=1000,
              show_default=True, help="Events written per transaction.")
def events_ingest(events_file: str, db_path: str | None, commit_every: int) -> None:
    """Check and append events to the event log in the audit file.

    An event id seen before is reported and skipped; a bad line is reported with its line
    number and skipped; exit 1 when any line was bad.
    """
    with AuditStore(db_path or default_db_path()) as store:
        report = ingest_events(store, events_file, commit_every=commit_every,
                               on_bad=lambda message: click.echo(message, err=True))
    click.echo(f"ingested {report.ingested:,} events; skipped {len(report.duplicates):,} "
               f"already seen; {len(report.bad):,} problems in bad lines")
    if report.bad:
        sys.exit(1)


def notify_recorded(plugins, recorded: list[tuple]) -> None:
    """Tell plugins about audited decisions; a plugin's failure is a warning line."""
    for seq, digest, record, data in recorded:
        info = {"seq": seq, "hash": digest, "decision_id": record.decision_id,
                "customer_id": record.customer_id}
        for plugin, result in plugins.call_each("credit_rules_decision_recorded",
                                                record=info, decision=data):
            if isinstance(result, PluginCallError):
                click.echo(f"credit: warning: plugin {plugin} (decision recorded) {result}",
                           err=True)


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def plugins_command(as_json: bool) -> None:
    """List the loaded plugins with their versions and hooks.

    A plugin that failed to load is named on stderr, one line each, and the exit code is 1.
    """
    plugins = installed_plugins()
    rows = [{"name": i.name, "version": i.version, "source": i.source,
             "hooks": list(i.hooks)} for i in plugins.infos]
    if as_json:
        click.echo(json.dumps({"plugins": rows, "failed": [
            {"name": f.name, "error": f.error} for f in plugins.failures]}, indent=2))
    else:
        for line in format_rows([{**r, "hooks": ", ".join(r["hooks"])} for r in rows],
                                ("name", "version", "source", "hooks"), "table"):
            click.echo(line)
    for failure in plugins.failures:
        click.echo(f"credit: error: plugin {failure.name} failed to load: {failure.error}",
                   err=True)
    if plugins.failures:
        sys.exit(1)


def register_plugin_commands(group: click.Group) -> None:
    """Let plugins add subcommands; a plugin that fails doing so is a warning line."""
    for plugin, result in installed_plugins().call_each("credit_rules_register_commands",
                                                        cli=group):
        if isinstance(result, PluginCallError):
            click.echo(f"credit: warning: plugin {plugin} (register commands) {result}",
                       err=True)


def _read_text(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read()
        where = "<stdin>"
    else:
        path = Path(name)
        if path.is_dir():
            raise InputError(name, [("", "is a directory, not a customer document")])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(name, [("", exc.strerror or "cannot read the file")]) from None
        where = name
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(where, [("", "not valid UTF-8 text")]) from None


@cli.command()
@click.argument("portfolio", metavar="PORTFOLIO.(csv|jsonl)")
@click.option("--out", "out", required=True, metavar="RESULTS.jsonl",
              help="Where to write the decisions, one JSON document per line.")
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
@click.option("--resume", is_flag=True,
              help="Finish an interrupted run of this batch (same portfolio, ruleset and "
                   "as-of date) without deciding any customer twice.")
def batch(portfolio: str, out: str, ruleset_dir: str | None, as_of: dt.date | None,
          workers: int, as_json: bool, with_trace: bool, progress: bool | None,
          db_path: str | None, no_audit: bool, commit_every: int, resume: bool) -> None:
    """Decide every customer of a portfolio, streaming; bad rows are reported and skipped.

    Each decision is audited (unless --no-audit). Exits 1 when any row failed.
    """
    as_of = as_of or dt.date.today()
    folder = ruleset_dir or default_ruleset()
    show = sys.stderr.isatty() if progress is None else progress
    meter = _Progress(_estimate_rows(portfolio)) if show else None

    def report(error: RowError) -> None:
        if meter:
            meter.clear()
        for message in error.messages:
            click.echo(message, err=True)

    use_audit_file(db_path)
    store = None if no_audit else AuditStore(db_path or default_db_path())
    try:
        plugins = installed_plugins()
        listening = plugins.manager.hook.credit_rules_decision_recorded.get_hookimpls()
        summary = run_batch(portfolio, out, folder, as_of, workers=workers, audit=store,
                            commit_every=commit_every, resume=resume, with_trace=with_trace,
                            on_error=report, on_progress=meter.update if meter else None,
                            on_recorded=(lambda recorded: notify_recorded(plugins, recorded))
                            if listening else None)
    finally:
        if store:
            store.close()
        if meter:
            meter.finish()
    data = summary.to_dict()
    data["as_of"] = as_of.isoformat()
    data["out"] = out
    data["audit"] = None if no_audit else (db_path or default_db_path())
    if as_json:
        click.echo(json.dumps(data, sort_keys=True))
    else:
        grades = load_ruleset(folder).grades
        click.echo(summary_text(data, grades))
        click.echo(f"Results    {out} (as of {as_of.isoformat()})")
        if no_audit:
            click.echo("Audit      not audited (--no-audit)")
        else:
            resumed = f", {summary.resumed:,} from the interrupted run" if summary.resumed \
                else ""
            click.echo(f"Audit      {data['audit']}, batch {summary.batch_id}{resumed}")
    if summary.failed:
        sys.exit(1)


def _estimate_rows(path: str) -> int | None:
    """Rows in a portfolio, estimated from its size and its first lines."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            sample = handle.read(65536)
    except OSError:
        return None
    lines = sample.count(b"\n")
    if not lines:
        return None
    return max(1, int(size / (len(sample) / lines)))


class _Progress:
    """A progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self, total: int | None):
        self.total = total
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "#" * int(share * 30)
            text = f"[{bar:<30}] {share:4.0%} {done:,} rows, {rate:,.0f}/s"
        else:
            text = f"{done:,} rows, {rate:,.0f}/s"
        click.echo("\r" + text, err=True, nl=False)

    def clear(self) -> None:
        click.echo("\r\033[K", err=True, nl=False)

    def finish(self) -> None:
        self.clear()


register_audit_commands(cli)
cli.add_command(override_group)
cli.add_command(lint_command)
cli.add_command(monitor_command)
cli.add_command(diff_command)
cli.add_command(simulate_command)


def main() -> None:
    """Entry point of the ``credit`` command."""
    register_plugin_commands(cli)
    cli.main()

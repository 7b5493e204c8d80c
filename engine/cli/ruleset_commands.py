"""``credit validate`` and ``credit test``: checking a ruleset and running its own cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..enrich.plugin_manager import installed_plugins, plugin_problems
from ..errors import ProblemsError
from ..quality.coverage import coverage_lines, measure_coverage
from ..quality.ruleset_cases import load_cases, run_case
from ..ruleset.loader import load_ruleset
from .options import default_ruleset
from .output import format_rows, output_options
from .render import painted


@click.command()
@click.argument("ruleset", required=False, metavar="[RULESET]")
@output_options
def validate(ruleset: str | None, fmt: str) -> None:
    """Check a ruleset folder: YAML, schemas, expressions, tables, bands, letter templates.

    Prints one line per problem as FILE:LINE:COL: message and exits 1 when there is any.

    Examples:

    \b
      credit validate
      credit validate rulesets/candidate
    """
    folder = ruleset or default_ruleset()
    try:
        compiled = load_ruleset(folder)
        problems = plugin_problems(compiled, installed_plugins())
    except ProblemsError as exc:
        compiled, problems = None, exc.problems
    if (Path(folder) / "letters").is_dir():  # (Jinja2 is loaded only for a ruleset with letters)
        from ..dunning.templates import template_problems

        problems = [*problems, *template_problems(folder)]
    if fmt == "table":
        if problems:
            raise ProblemsError(problems)  # one FILE:LINE:COL line each, on stderr
        click.echo(f"{painted('ok', 'ok')}: {folder}: ruleset {compiled.name} "
                   f"{compiled.version}, "
                   f"hash {compiled.hash[:16]}")
        return
    rows = [{"file": p.location.file, "line": p.location.line, "column": p.location.column,
             "message": p.message} for p in problems]
    if fmt == "json":
        click.echo(json.dumps({"ok": not problems, "folder": str(folder),
                               "ruleset": compiled.identity if compiled and not problems
                               else None, "problems": rows}, indent=2, ensure_ascii=False))
    else:
        for line in format_rows(rows, ("file", "line", "column", "message"), fmt):
            click.echo(line)
    if problems:
        sys.exit(1)


@click.command("test")
@click.argument("ruleset", required=False, metavar="[RULESET]")
@click.option("--coverage", "with_coverage", is_flag=True,
              help="Also show how many cases reach each rule, table row, scorecard bin, "
                   "band, cap and floor, and list those no case reaches.")
@output_options
def test_command(ruleset: str | None, with_coverage: bool, fmt: str) -> None:
    """Run a ruleset's own cases (RULESET/tests/*.yaml).

    Prints one line per failed case and a final line 'N passed, M failed'; exits 1 on any
    failure. --coverage adds, per stage, every rule with the number of cases reaching it.

    Examples:

    \b
      credit test
      credit test rulesets/candidate --coverage
    """
    folder = ruleset or default_ruleset()
    compiled = load_ruleset(folder)
    results = [run_case(compiled, case) for case in load_cases(folder)]
    failed = sum(not r.passed for r in results)
    skipped = [r for r in results if r.skipped]
    passed = len(results) - failed - len(skipped)
    coverage = measure_coverage(compiled, results) if with_coverage else None
    if fmt == "csv":
        rows = [{"case": r.case.name, "location": str(r.case.location),
                 "result": "skipped" if r.skipped else "passed" if r.passed else "failed",
                 "differences": "; ".join(r.differences)} for r in results]
        for line in format_rows(rows, ("case", "location", "result", "differences"), "csv"):
            click.echo(line)
    elif fmt == "json":
        data = {"passed": passed, "failed": failed, "skipped": len(skipped), "failures": [
            {"case": r.case.name, "location": str(r.case.location),
             "differences": r.differences} for r in results if not r.passed]}
        if coverage is not None:
            data["coverage"] = coverage.to_dict()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for result in results:
            if not result.passed:
                click.echo(f"{result.case.location}: {painted('FAILED', 'failed')} "
                           f"{result.case.name}: "
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

"""``credit lint``: the static checks of a ruleset, a thin layer over ``engine.quality.lint``."""

from __future__ import annotations

import json
import sys

import click

from ..quality.findings import ERROR
from ..quality.lint import lint_ruleset
from ..ruleset.source import check_folder
from .options import default_ruleset
from .output import format_rows, output_options
from .render import painted

FINDING_COLUMNS = ("file", "line", "column", "severity", "code", "message")


@click.command("lint")
@click.argument("ruleset", required=False, metavar="[RULESET]")
@output_options
def lint_command(ruleset: str | None, fmt: str) -> None:
    """Check a ruleset for rules that can never fire, overlaps, gaps and more.

    Prints one line per finding as FILE:LINE:COL: severity: message [code] on standard
    error and a final line 'N errors, M warnings'; exits 1 when there is any error
    (warnings alone exit 0).

    Examples:

    \b
      credit lint
      credit lint rulesets/candidate --json
    """
    folder = ruleset or default_ruleset()
    check_folder(folder)  # nothing to lint: an error, not a finding
    findings = lint_ruleset(folder)
    errors = sum(f.severity == ERROR for f in findings)
    warnings = len(findings) - errors
    if fmt == "json":
        click.echo(json.dumps({"errors": errors, "warnings": warnings,
                               "findings": [f.to_dict() for f in findings]}, indent=2,
                              ensure_ascii=False))
    elif fmt == "csv":
        for line in format_rows((f.to_dict() for f in findings), FINDING_COLUMNS, "csv"):
            click.echo(line)
    else:
        for finding in findings:  # problems in files, like validate's: on stderr
            click.echo(f"{finding.location}: {painted(finding.severity, finding.severity)}: "
                       f"{finding.message} [{finding.code}]", err=True)
        click.echo(f"{errors} error{'s' * (errors != 1)}, "
                   f"{warnings} warning{'s' * (warnings != 1)}")
    if errors:
        sys.exit(1)

"""``credit dmn import`` and ``credit dmn export``: decision tables to and from DMN XML."""

from __future__ import annotations

from pathlib import Path

import click

from ..dmn.exporting import export_stage
from ..dmn.importing import import_dmn, stage_text


@click.group("dmn")
def dmn_group() -> None:
    """Decision tables to and from DMN XML (DMN 1.3-1.5: Camunda, Drools, ...).

    Examples:

    \b
      credit dmn import risk.dmn --out rulesets/mine/derived.yaml --facts-under attributes
      credit dmn export rulesets/mine/derived.yaml --out risk.dmn
    """


def _mapping(_ctx, _param, values: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for value in values:
        name, sep, path = value.rpartition("=")
        if not sep or not name.strip() or not path.strip():
            raise click.BadParameter(f"'{value}' is not NAME=PATH (e.g. "
                                     "'Applicant Age=attributes.applicant_age')")
        found[name.strip()] = path.strip()
    return found


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise click.ClickException(f"cannot write {path}: {err.strerror or err}") from None


@dmn_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The derived stage file to write (YAML).")
@click.option("--fact", "facts", multiple=True, callback=_mapping, metavar="NAME=PATH",
              help="Read the FEEL name NAME as the fact PATH (repeatable).")
@click.option("--facts-under", "under", metavar="PREFIX",
              help="Read every other FEEL name that is not a fact path as a field under "
                   "PREFIX (e.g. attributes: 'Applicant Age' is attributes.applicant_age).")
def import_command(file: Path, out: Path, facts: dict[str, str], under: str | None) -> None:
    """Read a DMN file's decision tables into a derived stage (one derived fact each).

    Anything the ruleset cannot say yet is refused with its place in the file
    (FILE:LINE:COL), never dropped. Prints the tables written and the facts they read
    (declare those in facts.yaml), then check the ruleset with credit validate.

    Examples:

    \b
      credit dmn import risk.dmn --out derived.yaml --facts-under attributes
      credit dmn import risk.dmn --out derived.yaml --fact 'Applicant Age=attributes.age'
    """
    imported = import_dmn(file, facts, under)
    _write(out, stage_text(imported.stage))
    tables = ", ".join(f"{name} ({policy})" for name, policy in imported.tables)
    click.echo(f"wrote {out}: {len(imported.tables)} decision "
               f"table{'s' if len(imported.tables) != 1 else ''}: {tables}")
    if imported.reads:
        click.echo("reads: " + ", ".join(f"{path} ({typ or 'type not given'})"
                                          for path, typ in imported.reads.items()))


@dmn_group.command("export")
@click.argument("stage", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The DMN file to write.")
def export_command(stage: Path, out: Path) -> None:
    """Write a stage's decision tables as a DMN 1.3 file.

    A derived stage gives one decision per derived fact that is a table (formulas are
    named, not written); any other stage its 'table'.

    Examples:

    \b
      credit dmn export rulesets/mine/derived.yaml --out risk.dmn
      credit dmn export rulesets/default/approval.yaml --out approval.dmn
    """
    exported = export_stage(stage)
    _write(out, exported.text)
    decisions = ", ".join(f"{name} ({policy.lower()})" for name, policy in exported.decisions)
    click.echo(f"wrote {out}: {len(exported.decisions)} decision"
               f"{'s' if len(exported.decisions) != 1 else ''}: {decisions}")
    if exported.formulas:
        click.echo("not tables, left out: " + ", ".join(exported.formulas))

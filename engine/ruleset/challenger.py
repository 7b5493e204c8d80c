"""The challenger a ruleset names (``challenger: {ruleset, share}`` in its manifest): loaded
beside the champion and checked against it: same currency, enrichment the champion asks
for too, no redacted fact read. Who it decides, and how, is ``engine.decide.challenger``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, ProblemsError
from .cache import load_compiled
from .compiler import CompiledRuleset
from .source import MANIFEST


@dataclass(frozen=True)
class Challenger:
    """The challenger a champion names: its compiled ruleset, the share of customers it
    decides, and the folder as the manifest wrote it."""

    ruleset: CompiledRuleset
    share: float
    reference: str


def load_challenger(champion: CompiledRuleset, folder: str | Path) -> Challenger:
    """Load and check the challenger ``champion``'s manifest names (relative to
    ``folder``). Raises ProblemsError located at the manifest's ``challenger`` entry (with
    the challenger's own problems, located in its files, when it is broken)."""
    spec = champion.manifest["challenger"]
    reference, share = spec["ruleset"], spec["share"]
    where = champion.source.manifest.locate(("challenger", "ruleset"))

    def fail(message: str, more: list[Problem] = ()) -> ProblemsError:
        return ProblemsError([Problem(where, f"challenger: {message}"), *more])

    path = Path(os.path.normpath(Path(folder) / reference))
    if not path.exists():
        raise fail(f"no ruleset folder {reference} (looked for {path})")
    if not path.is_dir() or not (path / MANIFEST).is_file():
        raise fail(f"{reference} is not a ruleset folder (no {MANIFEST} in {path})")
    try:
        ruleset = load_compiled(path)
    except ProblemsError as exc:
        count = len(exc.problems)
        raise fail(f"the ruleset in {reference} has {count} problem"
                   f"{'' if count == 1 else 's'} (listed with their locations)",
                   exc.problems) from None
    if "challenger" in ruleset.manifest:
        raise fail(f"the ruleset in {reference} names a challenger itself; a challenger "
                   "cannot have one")
    if ruleset.currency != champion.currency:
        raise fail(f"the ruleset in {reference} counts money in {ruleset.currency}, this "
                   f"one in {champion.currency}; they must agree")
    uncovered = _uncovered_enrichment(champion.enrichment, ruleset.enrichment)
    if uncovered:
        raise fail(f"the ruleset in {reference} {uncovered[0]}, which this ruleset does "
                   "not (enrichment.yaml); the challenger decides on this ruleset's "
                   "enriched facts")
    redacted = _redacted_reads(champion.redact, ruleset.fact_types)
    if redacted:
        raise fail(f"the ruleset in {reference} reads {redacted[0]}, which this ruleset "
                   "redacts in the audit trail: its decisions could not be replayed")
    return Challenger(ruleset, share, reference)


def _uncovered_enrichment(champion: dict, challenger: dict) -> list[str]:
    """What the challenger asks plugins for that the champion does not (same type)."""
    found = []
    ours = champion.get("indicators") or {}
    for plugin, spec in (challenger.get("indicators") or {}).items():
        for name, value in spec["values"].items():
            mine = (ours.get(plugin) or {}).get("values", {}).get(name)
            if mine is None or mine["type"] != value["type"]:
                found.append(f"asks indicator plugin {plugin} for {name} ({value['type']})")
    bureau = challenger.get("bureau")
    if bureau:
        mine = (champion.get("bureau") or {}).get("values", {})
        for name, value in bureau["values"].items():
            if name not in mine or mine[name]["type"] != value["type"]:
                found.append(f"asks the credit bureau for {name} ({value['type']})")
    return found


def _redacted_reads(redacted: tuple[str, ...], fact_types: dict) -> list[str]:
    return [fact for path in redacted for fact in sorted(fact_types)
            if fact == path or fact.startswith(path + ".") or path.startswith(fact + ".")]

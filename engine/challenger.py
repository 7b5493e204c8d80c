"""Champion/challenger: a ruleset (the champion) may name another ruleset (the challenger)
and a share of customers. For the customers in that share, the challenger decides too, on
the same enriched facts; the champion's decision is the one applied, output and summarised,
and the challenger's result is recorded beside it in the audit record.

Who is in the share is a pure function of the champion's *name* and the customer id::

    point = first 53 bits of sha256("challenger:<champion name>:<customer id>") / 2**53
    in the split  <=>  point < share

so the split is the same in every run, process and worker count, and:

- editing the challenger, or releasing a new champion version, does not reshuffle it:
  successive challenger versions are compared on the same customers;
- raising the share only adds customers (everyone in at 10% is still in at 20%);
- rulesets with different names split independently.

The challenger reference is a run setting, not content: it is left out of the champion's
hash (``ruleset.RUN_KEYS``), so naming, changing or removing a challenger changes none of
the champion's decisions, hashes or decision ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .canonical import to_jsonable
from .compiler import CompiledRuleset, compile_ruleset
from .enrich import facts_for
from .errors import DecisionError, Problem, ProblemsError
from .pipeline import decide
from .ruleset import MANIFEST, load_ruleset_source

_SCALE = float(1 << 53)


@dataclass(frozen=True)
class Challenger:
    """The challenger a champion names: its compiled ruleset, the share of customers it
    decides, and the folder as the manifest wrote it."""

    ruleset: CompiledRuleset
    share: float
    reference: str


def split_point(champion_name: str, customer_id: str) -> float:
    """Where a customer falls in [0, 1) for a champion: uniform, and the same every time."""
    digest = hashlib.sha256(f"challenger:{champion_name}:{customer_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / _SCALE


def in_split(champion_name: str, customer_id: str, share: float) -> bool:
    """Whether the challenger decides this customer too."""
    return split_point(champion_name, customer_id) < share


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
        ruleset = compile_ruleset(load_ruleset_source(path))
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


def challenger_part(champion: CompiledRuleset, facts: dict, as_of: dt.date) -> dict | None:
    """What the audit records beside the champion's decision: None when the champion
    names no challenger or the customer is not in its split."""
    challenger = champion.challenger
    if challenger is None or not in_split(champion.name, facts.get("id", ""),
                                          challenger.share):
        return None
    return decide_challenger(challenger.ruleset, challenger.share, facts, as_of)


def decide_challenger(ruleset: CompiledRuleset, share: float, facts: dict,
                      as_of: dt.date) -> dict:
    """The challenger's decision on the champion's enriched facts, as recorded:
    ``{"ruleset", "share", "decision"}``, or ``{"ruleset", "share", "error"}`` when the
    challenger's rules could not decide (the champion's decision stands either way)."""
    part: dict = {"ruleset": ruleset.identity, "share": share}
    try:
        decision = decide(ruleset, facts_for(ruleset, facts), as_of)
    except DecisionError as exc:
        part["error"] = str(exc)
        return part
    policy = decision.policy
    limit = decision.credit_limit
    part["decision"] = {
        "outcome": decision.outcome,
        "reasons": [code for code, _, _ in decision.admission_reasons],
        "score": to_jsonable(decision.score),
        "grade": decision.grade,
        "credit_limit": None if limit is None else format(limit, "f"),
        "payment_term_days": None if policy is None else policy["payment_term_days"],
        "required_level": decision.required_level,
    }
    return part


def challenger_view(champion: CompiledRuleset, part: dict | None) -> dict | None:
    """The ``challenger`` key of ``credit decide --json``: the recorded part with
    ``in_split``, or just the challenger's identity and share when the customer is not in
    the split; None when the champion names no challenger."""
    challenger = champion.challenger
    if challenger is None:
        return None
    if part is None:
        return {"in_split": False, "ruleset": challenger.ruleset.identity,
                "share": challenger.share}
    return {"in_split": True, **part}

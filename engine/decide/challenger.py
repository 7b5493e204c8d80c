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

from ..canonical import to_jsonable
from ..errors import DecisionError
from ..ruleset.compiler import CompiledRuleset
from .pipeline import decide

_SCALE = float(1 << 53)


def split_point(champion_name: str, customer_id: str) -> float:
    """Where a customer falls in [0, 1) for a champion: uniform, and the same every time."""
    digest = hashlib.sha256(f"challenger:{champion_name}:{customer_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / _SCALE


def in_split(champion_name: str, customer_id: str, share: float) -> bool:
    """Whether the challenger decides this customer too."""
    return split_point(champion_name, customer_id) < share


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


def facts_for(ruleset: CompiledRuleset, facts: dict) -> dict:
    """The enriched facts as ``ruleset`` would have had them: without the failures of
    plugins only the other ruleset asks for."""
    failures = facts.get("enrichment_failures")
    if not failures:
        return facts
    indicators = ruleset.enrichment.get("indicators") or {}
    bureau = ruleset.enrichment.get("bureau")
    kept = [f for f in failures
            if f.get("kind") == "overrides"
            or (f.get("kind") == "bureau" and bureau is not None)
            or (f.get("kind") not in ("overrides", "bureau") and f.get("source") in indicators)]
    if len(kept) == len(failures):
        return facts
    facts = dict(facts)
    if kept:
        facts["enrichment_failures"] = kept
    else:
        del facts["enrichment_failures"]
    return facts

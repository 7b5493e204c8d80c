"""What a re-grade decides on: the customer's recorded input with the account's measures
put in where ``monitoring.yaml``'s ``regrade: facts:`` says, each marked as the monitor's
in the enriched values. The monitor's ``regrade`` action and ``credit rescore`` share it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from ..ruleset.compiler import CompiledRuleset


def account_facts(ruleset: CompiledRuleset, recorded: Mapping, enriched: Mapping,
                  measures: Mapping) -> tuple[dict, dict, dict]:
    """(facts, enriched, changed): a copy of the ``recorded`` input with the mapped
    measures set, the ``enriched`` values with each of them as the monitor's, and the
    values set by fact path."""
    facts = json.loads(json.dumps(recorded))
    enriched = dict(enriched)
    changed = {}
    for path, measure in sorted(ruleset.monitoring.regrade_facts.items()):
        value = plain(measures[measure])
        _set_path(facts, path, value)
        enriched[path] = {"plugin": "monitor", "value": value}
        changed[path] = value
    return facts, enriched, changed


def plain(value: object) -> object:
    """An engine value as JSON: whole amounts as integers, other amounts as decimals."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _set_path(document: dict, path: str, value: object) -> None:
    *parents, last = path.split(".")
    for name in parents:
        child = document.get(name)
        if not isinstance(child, dict):
            child = document[name] = {}
        document = child
    document[last] = value

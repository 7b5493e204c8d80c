"""``credit lint`` on ``monitoring.yaml``: windows longer than the signals are remembered,
and rules that can act on a signal remembered from before a hold."""

from __future__ import annotations

from collections.abc import Iterator

from ..ruleset.compiler import CompiledRuleset
from ..ruleset.monitoring import SENTINEL_DAYS, negated_name
from .findings import WARNING, Finding


def monitoring_findings(ruleset: CompiledRuleset) -> list[Finding]:
    """Findings for the ruleset's monitoring rules (none when it has none)."""
    if ruleset.monitoring is None:
        return []
    doc = ruleset.source.stages["monitoring"]
    remember = ruleset.monitoring.remember_days
    findings = []
    for index, spec in enumerate(doc.data["rules"]):
        bound: dict[str, str] = {}
        for position, pattern in enumerate(spec["match"]):
            where = doc.locate(("rules", index, "match", position,
                                "when" if "when" in pattern else "none" if "none" in pattern
                                else "signal"))
            condition = _condition(ruleset, spec["id"], pattern, position)
            longest = max(_windows(condition), default=0)
            if longest > remember:
                findings.append(Finding(where, WARNING, "window-forgotten", (
                    f"{spec['id']} looks {longest:g} days back, but signals are forgotten "
                    f"after remember_days ({remember})")))
            holds = [name for name, kind in bound.items() if kind == "hold"]
            if "as" in pattern and holds and not _orders_after(condition, holds[0]):
                findings.append(Finding(where, WARNING, "before-hold", (
                    f"{spec['id']}: a {pattern['signal']} remembered from before the hold "
                    f"matches as soon as the hold arrives; add n > {holds[0]}.n")))
            if "as" in pattern:
                bound[pattern["as"]] = pattern["signal"]
    return findings


def _condition(ruleset: CompiledRuleset, rule_id: str, pattern: dict, position: int):
    """The compiled durable_rules condition of one pattern of a rule."""
    rule = next(r for r in ruleset.monitoring.rules if r.id == rule_id)
    name = pattern.get("as") or negated_name(position)
    return next(entry[name] for entry in rule.condition["all"] if name in entry)


def _walk(node) -> Iterator:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _windows(condition) -> Iterator[float]:
    """The N of every ``NAME.day + N`` (or ``- N``) in a condition."""
    for node in _walk(condition):
        if isinstance(node, dict):
            for op in ("$add", "$sub"):
                args = node.get(op)
                if isinstance(args, dict) and isinstance(args.get("$l"), dict) and \
                        list(args["$l"].values()) == ["day"] and \
                        isinstance(args.get("$r"), int | float) and \
                        args["$r"] != SENTINEL_DAYS:
                    yield abs(args["$r"])


def _orders_after(condition, hold: str) -> bool:
    """Whether the condition requires ``n > HOLD.n`` (a signal newer than the hold)."""
    return any(isinstance(node, dict) and node.get("$gt") == {"n": {hold: "n"}}
               for node in _walk(condition))

"""Static check that approval routing and the authority matrix agree: no credit limit is
signed off at a level whose role may not set it.

``approval.yaml`` routes each decision to a level (``automatic``, then the roles); the
roles of ``authority.yaml`` say the largest limit each may set (``max_limit``; none: no
bound). A limit the routing gives a role whose ``max_limit`` is below it, or approves
automatically above the ``max_limit`` of the lowest role (an automatic approval must not
grant what no one at the lowest level could grant by hand), is an error located at the
row's ``required_level``, naming the ``max_limit`` it exceeds with its own location.

The compiled approval function is asked, as the decision asks it, for credit limits cut at
every number the table's cells and the roles' limits mention (each, a cent above it and a
cent below), for an accepted and a referred case (a rejected one is granted no limit),
every grade, and with and without an override; so a row is judged together with the rows
of higher priority that would take the same input.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from decimal import Decimal

from ..errors import DecisionError
from ..ruleset.compiler import (
    ADMISSION_OUTPUTS,
    GRADING_OUTPUTS,
    OVERRIDE_OUTPUTS,
    CompiledRuleset,
)
from ..ruleset.policy import POLICY_OUTPUTS
from .findings import ERROR, Finding

CENT = Decimal("0.01")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
OUTCOMES = ("accept", "refer")  # a rejected customer is granted no limit (it is null)


def approval_findings(ruleset: CompiledRuleset) -> list[Finding]:
    """A finding for each approval row (or default) that signs off a credit limit above
    what its level's role may set; the smallest such limit is named."""
    stages = ruleset.source.stages
    if "authority" not in stages or not ruleset.levels:
        return []
    authority = stages["authority"]
    roles = list(authority.data.get("roles") or [])
    bounds = _bounds(ruleset.levels, roles)
    if not bounds:
        return []
    doc = stages["approval"]
    spec = doc.data["table"]
    table_id = spec.get("id", "approval")
    index = {str(rule["id"]): i for i, rule in enumerate(spec.get("rules") or [])}
    found: dict[str, Finding] = {}
    for limit in _limits(spec, bounds):
        for outcome, grade, overrides in itertools.product(OUTCOMES, ruleset.grades, (0, 1)):
            result = _route(ruleset, limit, outcome, grade, overrides, table_id, spec)
            if result is None:
                continue
            level, row = result
            if level not in bounds or row in found:
                continue
            role_index, role_name, bound = bounds[level]
            if limit <= bound:
                continue
            where = authority.locate(("roles", role_index, "max_limit"))
            who = (f"approves automatically a credit limit of {_show(limit)}, above the "
                   f"{_show(bound)} the lowest role, {role_name}, may set"
                   if level != role_name else
                   f"sends a credit limit of {_show(limit)} to {level}, who may set at most "
                   f"{_show(bound)}")
            path = ("table", "rules", index[row], "then", "required_level") \
                if row in index else ("table", "default", "required_level")
            found[row] = Finding(
                doc.locate(path), ERROR, "approval-above-authority",
                f"rule {row} {who} (max_limit at {where}; for admission {outcome}, grade "
                f"{grade}): a level must not approve more than its role may set")
    return list(found.values())


def _bounds(levels: tuple[str, ...], roles: list) -> dict[str, tuple[int, str, Decimal]]:
    """level -> (role index, role name, max_limit) for the levels with a bound: each role
    with a max_limit, and the lowest level when it is no role (automatic approval), bound
    by the lowest role's max_limit."""
    bounds: dict[str, tuple[int, str, Decimal]] = {}
    names = [str(role.get("name")) for role in roles]
    for i, role in enumerate(roles):
        if role.get("max_limit") is not None and names[i] in levels:
            bounds[names[i]] = (i, names[i], Decimal(str(role["max_limit"])))
    if roles and levels and levels[0] not in names and roles[0].get("max_limit") is not None:
        bounds[levels[0]] = (0, names[0], Decimal(str(roles[0]["max_limit"])))
    return bounds


def _limits(spec: Mapping, bounds: Mapping) -> list[Decimal]:
    """The credit limits to try, ascending: every number in the table's cells and each
    bound, a cent either side of each, and 0."""
    marks = {Decimal(0)}
    for _, _, bound in bounds.values():
        marks.add(bound)
    for rule in spec.get("rules") or []:
        for cell in (rule.get("when") or {}).values():
            for text in NUMBER.findall(str(cell)):
                marks.add(Decimal(text))
    tried = {m + delta for m in marks for delta in (-CENT, 0, CENT)}
    return sorted(value for value in tried if value >= 0)


def _route(ruleset: CompiledRuleset, limit: Decimal, outcome: str, grade: str,
           overrides: int, table_id: str, spec: Mapping) -> tuple[str, str] | None:
    """(level, row id or "default") the approval stage gives; None when it fails."""
    names = {*ruleset.fact_types, *ruleset.derived_types, *ADMISSION_OUTPUTS,
             *GRADING_OUTPUTS, *POLICY_OUTPUTS, *OVERRIDE_OUTPUTS, "total_exposure"}
    v = dict.fromkeys(names)
    v.update(admission_outcome=outcome, score=0, band_grade=grade, grade=grade,
             credit_limit=limit, overrides_applied=overrides)
    trace: list = []
    try:
        level = ruleset.approval(v, trace.append)
    except (DecisionError, ArithmeticError, TypeError, ValueError):
        return None
    then = {str(rule["id"]): (rule.get("then") or {}).get("required_level")
            for rule in spec.get("rules") or []}
    for (_, stage, rule_id, _), _, _ in trace:
        if stage == "approval" and rule_id.startswith(table_id + "/"):
            row = rule_id[len(table_id) + 1:]
            if then.get(row) == level:
                return level, row
    return level, "default"


def _show(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)

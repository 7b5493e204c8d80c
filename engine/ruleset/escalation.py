"""Escalation: from an overdue account's position to the next collections step.

The ruleset's ``escalation.yaml`` holds the ladder (mildest step first, each with a
minimum overdue amount, a minimum share of the balance, days to wait before the next, and
optionally a dunning fee charged when it is taken) and a decision table that proposes a
step from the position. Stateless and pure: the monitor computes the position from the
event log and asks for the step.

How the ladder is climbed (``climb``): ``one_step`` (the default) takes the steps one at a
time from the mildest; ``fitting`` goes straight to the step that fits the account's age
and amount (the proposed step after the amount fall-back), when it enters the ladder and
after each waiting time, but never past a step marked ``required`` that has not been taken
(a formal letter before legal action).

The position an escalation reads (``POSITION_FACTS``): days overdue of the oldest open
undisputed item, the overdue amount (disputed items left out), the balance (disputed items
included: they are still exposure), the customer's grade and segment (the ``segment`` of
the customer document the decision in force read; null when none was given), whether a
dispute is open, whether a promise to pay was broken (the promised amount did not come by
the promised date), whether one is still open (its date is to come), the last step taken
and how many days ago.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..language.codegen import FunctionBuilder, Reporter, scope_for
from ..language.expressions import BOOLEAN, INTEGER, MONEY, STRING
from ..language.tables import compile_table

NONE = "none"
POSITION_FACTS = {"days_overdue": INTEGER, "overdue_amount": MONEY, "balance": MONEY,
                  "grade": STRING, "segment": STRING, "dispute_open": BOOLEAN,
                  "promise_broken": BOOLEAN, "promise_open": BOOLEAN, "last_step": STRING,
                  "days_since_last_step": INTEGER}


def compile_escalation(spec: Mapping, fb: FunctionBuilder, rep: Reporter) -> None:
    """Write the escalation table into ``fb``: the function returns the proposed step."""
    names = [step["name"] for step in spec["steps"]]
    for index, name in enumerate(names):
        if name == NONE or names.index(name) != index:
            rep.error(("steps", index, "name"), f"step name '{name}' is "
                      + ("reserved" if name == NONE else "used twice"))
    table_spec = spec["table"]
    outputs = {o["name"]: o["type"] for o in table_spec.get("outputs", [])}
    if outputs != {"step": STRING}:
        rep.error(("table", "outputs"), "the escalation table has one output: step (string)")
        return
    for index, rule in enumerate(table_spec.get("rules", [])):
        step = (rule.get("then") or {}).get("step")
        if isinstance(step, Mapping):
            rep.error(("table", "rules", index, "then", "step", "expr"), "'step' names a "
                      "step of the ladder: write the step, not an expression")
        elif step not in (*names, NONE):
            rep.error(("table", "rules", index, "then", "step"),
                      f"'{step}' is not a step of the ladder ({', '.join(names)}) or none")
    table = compile_table(table_spec, ("table",), table_spec.get("id", "escalation"),
                          "escalation", scope_for(POSITION_FACTS), fb, rep)
    if table is not None:
        fb.line(f"return {table.outputs['step'][0]}")


def step_fee(spec: Mapping | None, step: str) -> Decimal | None:
    """The dunning fee ``escalation.yaml`` charges with ``step`` (None when it states
    none)."""
    for entry in (spec or {}).get("steps", ()):
        if entry["name"] == step and entry.get("fee") is not None:
            return Decimal(str(entry["fee"]))
    return None


@dataclass
class Escalation:
    """The next step for an account, what the table proposed, and why they differ."""

    step: str
    proposed: str
    notes: list[str] = field(default_factory=list)
    trace: list = field(default_factory=list)


def next_step(ruleset, position: Mapping) -> Escalation:
    """The step to take now (``none`` when nothing is due). Pure."""
    if ruleset.escalation is None:
        raise ValueError(f"ruleset {ruleset.name} has no escalation.yaml")
    spec = ruleset.escalation_spec
    values = {name: position.get(name) for name in POSITION_FACTS}
    for name in ("overdue_amount", "balance"):
        if values[name] is not None:
            values[name] = Decimal(str(values[name]))
    trace: list = []
    proposed = ruleset.escalation(values, trace.append) or NONE
    result = Escalation(proposed, proposed, trace=trace)
    days = values["days_overdue"] or 0
    grace = spec.get("grace_days", 0)
    if days <= grace:
        if proposed != NONE:
            result.notes.append(f"within the {grace} grace days")
        result.step = NONE
        return result
    steps = spec["steps"]
    names = [s["name"] for s in steps]
    level = names.index(proposed) if proposed in names else -1
    amount = values["overdue_amount"] or Decimal(0)
    balance = values["balance"] or Decimal(0)
    # Fall back while the amount is below the step's minimum (as ERP dunning does).
    while level >= 0:
        step = steps[level]
        share = amount / balance if balance > 0 else Decimal(0)
        if amount < Decimal(str(step.get("min_amount", 0))) or \
                share < Decimal(str(step.get("min_percent", 0))):
            result.notes.append(f"{step['name']} needs at least {step.get('min_amount', 0)} "
                                f"and {step.get('min_percent', 0):.0%} of the balance overdue")
            level -= 1
            continue
        break
    last = values["last_step"]
    last_level = names.index(last) if last in names else -1
    if 0 <= level < last_level:  # the ladder is not climbed down while the account is open
        result.notes.append(f"{last} was already taken, a stronger step than "
                            f"{names[level]}")
        result.step = NONE
        return result
    if level > last_level + 1 and spec.get("climb", "one_step") == "fitting":
        for between in range(last_level + 1, level):  # never past a required step
            if steps[between].get("required"):
                result.notes.append(f"{names[between]} is required before "
                                    f"{names[level]}")
                level = between
                break
    elif level > last_level + 1:  # one step at a time
        result.notes.append(f"one step at a time after {last or 'no step'}")
        level = last_level + 1
    if level >= 0 and last_level >= 0 and level >= last_level:
        wait = steps[last_level].get("wait_days", 0)
        since = values["days_since_last_step"]
        if since is not None and since < wait:
            result.notes.append(f"waiting {wait} days after {last} ({since} so far)")
            result.step = NONE
            return result
        if level == last_level:
            result.notes.append(f"{last} was already taken")
            result.step = NONE
            return result
    result.step = names[level] if level >= 0 else NONE
    return result

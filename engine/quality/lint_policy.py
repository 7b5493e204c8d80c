"""Static check of the policy stage: values that go the wrong way, a worse grade getting
a larger credit limit, a longer payment term or review interval, or no guarantee where a
better grade needs one; and a worse grade on credit terms (a payment term above 0) offered
a smaller cash discount, or a shorter window to earn it, than a better grade: paying early
cuts the most risk where the risk is highest, so the incentive should not shrink with the
grade.

The compiled policy function is asked for every grade over a fixed grid of values of the
numbers it reads (revenue, equity, ...; within each customer field's bounds), and of the
true/false and text facts it reads (true, false, the values a text fact is known to take,
and missing), so a limit formula or a row for a guaranteed customer is compared as the
decision computes it, not by reading its text. The grid is
deterministic: the same ruleset always gives the same findings.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Mapping

from ..errors import DecisionError
from ..language.expressions import EXACT, INTEGER, NUMERIC
from ..language.runtime import written
from ..ruleset.compiler import ADMISSION_OUTPUTS, GRADING_OUTPUTS, CompiledRuleset
from .findings import ERROR, Finding
from .input_space import domain_of

# output -> what a worse grade getting more of it is called (larger is more generous)
MORE_GENEROUS = {"credit_limit": "a larger credit limit",
                 "payment_term_days": "a longer payment term",
                 "review_interval_days": "a longer review interval"}
MORE = "a worse grade should not get more"
# output -> what a worse grade on credit terms getting less of it is called
SMALLER_INCENTIVE = {"discount_rate": ("a smaller cash discount", ""),
                     "discount_days": ("a shorter cash discount window", " days")}
LESS = ("a worse grade on credit terms should be offered at least the same incentive to pay "
        "early")
GRID = (1_000_000, 100_000, 10_000_000, 1000, 1_000_000_000, 10, 1, 0.5, 0.1, 0, -1, -1000,
        -1_000_000)
MAX_PROBES = 5000
PROBE_DATE = dt.date(2026, 1, 1)


def policy_findings(ruleset: CompiledRuleset) -> list[Finding]:
    """A finding for each grade and policy output that is more generous than for a
    better grade, located at the output of the rule that gives it."""
    doc = ruleset.source.stages["policy"]
    spec = doc.data["table"]
    table_id = spec.get("id", "policy")
    index = {str(rule["id"]): i for i, rule in enumerate(spec.get("rules") or [])}
    found: dict[tuple[str, str], Finding] = {}
    for probe in _probes(ruleset, table_id):
        given = {}
        for grade in ruleset.grades:
            outcome = _policy_for(ruleset, probe, grade, table_id)
            if outcome is not None:
                given[grade] = outcome
        for k, worse in enumerate(ruleset.grades):
            if worse not in given:
                continue
            outputs, row = given[worse]
            for better in reversed(ruleset.grades[:k]):
                if better not in given:
                    continue
                for name, text, why in _wrong_way(given[better][0], outputs):
                    if (worse, name) in found:
                        continue
                    path = ("table", "default", name) if row == "default" else \
                        ("table", "rules", index[row], "then", name)
                    cell = (spec.get("default") or {}).get(name) if row == "default" else \
                        (spec["rules"][index[row]].get("then") or {}).get(name)
                    example = "" if isinstance(cell, int | float) or not probe else \
                        " (for " + ", ".join(f"{n} = {v}" for n, v in probe.items()) + ")"
                    found[(worse, name)] = Finding(
                        doc.locate(path), ERROR, "policy-wrong-way",
                        f"grade {worse} gets {text(better)}{example}: {why}")
    return list(found.values())


def _wrong_way(better: Mapping, worse: Mapping):
    """(output, text maker, why) for each output where ``worse`` is more generous, or on
    credit terms is offered less incentive to pay early."""
    for name, what in MORE_GENEROUS.items():
        b, w = better.get(name), worse.get(name)
        if b is not None and w is not None and w > b:
            yield name, lambda grade, what=what, b=b, w=w: (
                f"{what} ({_show(w)}) than the better grade {grade} ({_show(b)})"), MORE
    if better.get("guarantee_required") is True and worse.get("guarantee_required") is False:
        yield "guarantee_required", lambda grade: (f"no guarantee where the better grade "
                                                   f"{grade} needs one"), MORE
    term = worse.get("payment_term_days")
    if term is None or term <= 0:  # cash in advance: nothing to pay early
        return
    for name, (what, unit) in SMALLER_INCENTIVE.items():
        b, w = better.get(name), worse.get(name)
        if name == "discount_days" and not (
                (better.get("discount_rate") or 0) > 0 and (worse.get("discount_rate") or 0) > 0):
            continue  # a window without a discount (or beside none) is no incentive
        if b is not None and w is not None and w < b:
            yield name, lambda grade, what=what, unit=unit, b=b, w=w: (
                f"{what} ({_show(w)}{unit}) than the better grade {grade} ({_show(b)}{unit})"
            ), LESS


def _policy_for(ruleset: CompiledRuleset, probe: Mapping, grade: str, table_id: str):
    """(outputs, rule id or "default") the policy gives ``grade`` for ``probe``; None
    when no rule gives it or the decision fails."""
    names = {*ruleset.fact_types, *ruleset.derived_types, *ADMISSION_OUTPUTS,
             *GRADING_OUTPUTS}
    v = dict.fromkeys(names)
    v.update(as_of=PROBE_DATE, admission_outcome="accept", score=0, band_grade=grade,
             grade=grade)
    v.update(probe)
    trace: list = []
    try:
        outputs, _ = ruleset.policy(v, trace.append)
    except (DecisionError, ArithmeticError, TypeError, ValueError):
        return None
    for (_, stage, rule_id, _), _, _ in trace:
        if stage == "policy" and rule_id.startswith(table_id + "/"):
            row = rule_id[len(table_id) + 1:]
            return None if row == "no_match" else (outputs, row)
    return None


def _probes(ruleset: CompiledRuleset, table_id: str) -> list[dict]:
    """Values for the facts the policy table reads: every combination of the grid
    (numbers within their bounds; true/false; a text fact's known values; missing), or a
    fixed sample of them when there are too many."""
    types = {**ruleset.fact_types, **ruleset.derived_types, **GRADING_OUTPUTS}
    facts = ruleset.source.stages["facts"].data.get("facts") or {}
    reads: list[str] = []
    for stage, rule_id, names in ruleset.slots:
        if stage == "policy" and rule_id.startswith(table_id + "/"):
            reads += [n for n in names if n not in reads and n in types
                      and n not in GRADING_OUTPUTS and n not in ADMISSION_OUTPUTS]
    grids = []
    for name in reads:
        domain = domain_of(name, types[name], facts)
        if types[name] in NUMERIC:
            values = [v for v in GRID if domain.range.contains(v)
                      and (types[name] != INTEGER or isinstance(v, int))]
            if types[name] == EXACT:  # as the decision has it: never a float
                values = [written(v) for v in values]
            grids.append(values or [0])
        else:  # true/false, text, dates: the values known, and missing
            grids.append([*(domain.values or domain.named), None])
    size = 1
    for values in grids:
        size *= len(values)
    if size <= MAX_PROBES:
        combos = list(itertools.product(*grids))
    else:
        chooser = random.Random(0)
        combos = [tuple(chooser.choice(values) for values in grids)
                  for _ in range(MAX_PROBES)]
    return [dict(zip(reads, combo, strict=True)) for combo in combos] or [{}]


def _show(value: object) -> str:
    return format(value, "f") if hasattr(value, "quantize") else str(value)

"""Levers: one input changed to the value where something that matters changes, and what
the real decision then says. For each changeable field the search looks for the nearest
value that puts each characteristic it feeds (directly or through derived facts) into each
better bin, and that lifts each cap or knock-out in the way (or a part of its condition);
every such value is then decided with the pipeline itself."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..decide.decision import Decision
from ..decide.pipeline import decide
from ..errors import DecisionError
from ..language.expressions import BOOLEAN, STRING
from ..quality.input_space import domain_of
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.grading import Bin
from .boundaries import nearest
from .fields import get_field, is_present_number, move_size, scale_for, set_field
from .model import Blocker, Characteristic, Model, in_bin


@dataclass(frozen=True)
class Change:
    """One input changed: ``relation`` says how the new value is to be read (">=": at
    least this much; "<=": at most; "=": exactly)."""

    field: str
    before: object
    after: object
    relation: str
    size: float


@dataclass(frozen=True)
class Outcome:
    """What a decision said, as far as explaining needs it."""

    grade: str
    rank: int
    score: object
    band_grade: str
    outcome: str
    reasons: tuple[str, ...]  # admission reason codes
    points: dict  # characteristic id -> (bin id, points)
    fired: frozenset[str]  # caps and knock-outs whose condition holds

    @classmethod
    def of(cls, decision: Decision, model: Model) -> Outcome:
        points, fired = {}, set()
        for (_, stage, rule_id, _), _, result in decision.trace:
            if stage == "grading" and isinstance(result, dict) and "points" in result:
                points[rule_id] = (result["bin"], result["points"])
            elif stage == "admission":
                fired.add(rule_id)
        fired.update(a["id"] for a in decision.adjustments if a.get("kind") == "cap")
        blockers = {b.id for b in model.blockers}
        return cls(decision.grade, decision.ruleset.grades.index(decision.grade),
                   decision.score, decision.band_grade, decision.outcome,
                   tuple(code for code, _, _ in decision.admission_reasons), points,
                   frozenset(fired & blockers))


@dataclass
class Lever:
    """One change and the decision it gives; ``touches`` the blockers it was found for
    (it makes their condition, or a part of it, false)."""

    change: Change
    outcome: Outcome
    touches: set[str] = field(default_factory=set)


@dataclass
class Situation:
    """A recorded customer and what explaining it toward a grade needs."""

    ruleset: CompiledRuleset
    model: Model
    facts: dict
    as_of: dt.date
    current: Outcome
    target_rank: int
    changeable: Callable[[str], bool]

    def decided(self, facts: dict) -> Outcome | None:
        """The real decision on a changed customer (None when the rules cannot decide)."""
        try:
            return Outcome.of(decide(self.ruleset, facts, self.as_of), self.model)
        except DecisionError:
            return None

    def blocking(self) -> list[Blocker]:
        """The caps worse than the target, and the knock-outs, whose conditions hold."""
        return [b for b in self.model.blockers if b.id in self.current.fired and
                (b.kind == "knock-out" or
                 self.ruleset.grades.index(b.grade) > self.target_rank)]

    def reached(self, outcome: Outcome) -> bool:
        return outcome.rank <= self.target_rank and outcome.outcome != "reject"


def find_levers(situation: Situation) -> list[Lever]:
    """Every single change that raises the score or lifts a blocker, decided."""
    model, facts = situation.model, situation.facts
    values = model.values(facts, situation.as_of)
    if values is None:
        return []
    wanted: dict[tuple[str, object], Lever] = {}
    blocking = situation.blocking()
    fields = sorted({f for c in model.characteristics for f in c.facts} |
                    {f for b in blocking for f in b.facts})
    for name in fields:
        if not situation.changeable(name):
            continue
        for goal, blocker_id in _goals(situation, name, values, blocking):
            for change in changes_toward(situation, facts, name, goal):
                key = (change.field, repr(change.after))
                if key not in wanted:
                    outcome = situation.decided(set_field(facts, name, change.after))
                    if outcome is None:
                        continue
                    wanted[key] = Lever(change, outcome)
                if blocker_id is not None:
                    wanted[key].touches.add(blocker_id)
    current = situation.current
    levers = [lever for lever in wanted.values()
              if lever.outcome.score > current.score or lever.touches or
              lever.outcome.rank < current.rank or situation.reached(lever.outcome)]
    levers.sort(key=lambda lever: (lever.change.field, lever.change.size))
    return levers


# A goal: (holds(values), accept(values), texts). A search moves a field until ``holds``;
# ``accept`` is then checked at the value found (a step may jump past a bin into a worse
# one); ``texts`` are the text values worth trying for a text field.
Goal = tuple[Callable[[dict], bool], Callable[[dict], bool], tuple]


def _goals(situation: Situation, name: str, values: dict, blocking: list[Blocker]
           ) -> Iterable[tuple[Goal, str | None]]:
    """What moving field ``name`` could achieve: each better bin of each characteristic it
    feeds, and the end of each blocker in the way (or of one part of it), with the
    blocker's id."""
    for characteristic in situation.model.characteristics:
        if name not in characteristic.facts:
            continue
        current = characteristic.value(values)
        now = characteristic.bin_of(current)
        for bin_ in characteristic.bins:
            if bin_.kind in ("range", "values") and (now is None or bin_.points > now.points):
                goal = _bin_goal(characteristic, bin_, current)
                if goal is not None:
                    yield goal, None
    for blocker in blocking:
        if name not in blocker.facts:
            continue
        for condition in (blocker.condition, *blocker.atoms):
            if name in condition.facts and condition.holds(values):
                def lifted(v, c=condition):
                    return not c.holds(v)
                yield (lifted, lifted, strings(condition.text)), blocker.id


def _bin_goal(characteristic: Characteristic, bin_: Bin, current: object) -> Goal | None:
    """Reaching ``bin_``: for a range, reaching its edge from the side the value is on
    (then checked to be in a bin at least as good); for values, being one of them."""
    value = characteristic.value

    def accept(v: dict) -> bool:
        landed = characteristic.bin_of(value(v))
        return landed is not None and landed.points >= bin_.points and \
            landed.kind in ("range", "values")

    texts = tuple(str(x) for x in (bin_.test.values or ()) if isinstance(x, str)) \
        if bin_.test else ()
    if bin_.kind == "values" or not bin_.test or not bin_.test.intervals or \
            not is_present_number(current):
        return (lambda v: in_bin(bin_, value(v))), accept, texts
    interval = bin_.test.intervals[0]
    if interval.low is not None and (current < interval.low or (
            current == interval.low and not interval.low_closed)):
        low, closed = interval.low, interval.low_closed

        def holds(v: dict) -> bool:
            x = value(v)
            return is_present_number(x) and (x > low or (closed and x == low))
        return holds, accept, texts
    if interval.high is not None and (current > interval.high or (
            current == interval.high and not interval.high_closed)):
        high, closed = interval.high, interval.high_closed

        def holds_below(v: dict) -> bool:
            x = value(v)
            return is_present_number(x) and (x < high or (closed and x == high))
        return holds_below, accept, texts
    return None


def changes_toward(situation: Situation, facts: dict, name: str, goal: Goal
                   ) -> Iterable[Change]:
    """The nearest value of field ``name`` of ``facts`` that reaches ``goal`` (for a text
    or true/false field, each value that does)."""
    holds, accept, texts = goal
    model, as_of = situation.model, situation.as_of
    typ = situation.ruleset.fact_types[name]
    before = get_field(facts, name)

    def values_with(value: object) -> dict | None:
        return model.values(set_field(facts, name, value), as_of)

    if typ in (BOOLEAN, STRING):
        options = (True, False) if typ == BOOLEAN else _text_options(situation, name, texts)
        for option in options:
            if option == before:
                continue
            v = values_with(option)
            if v is not None and holds(v) and accept(v):
                yield Change(name, before, option, "=", move_size(typ, before, option))
        return
    domain = domain_of(name, typ, situation.ruleset.source.stages["facts"].data.get(
        "facts") or {})
    bounds = domain.range
    scale = scale_for(typ, before, situation.ruleset.rounding[0], bounds.low, bounds.high)
    if scale is None:
        return
    try:
        start = scale.position(before) if before is not None else _origin(scale)
    except (ValueError, ArithmeticError, TypeError):
        return

    def at(position) -> bool:
        v = values_with(scale.value(position))
        return v is not None and bool(holds(v))

    found = [(start, 0)] if before is None and at(start) else nearest(scale, start, at)
    for position, direction in found:  # the nearest that lands in a bin as good
        after = scale.value(position)
        v = values_with(after)
        if v is None or not accept(v):
            continue
        relation = ">=" if direction > 0 else "<=" if direction < 0 else "="
        yield Change(name, before, after, relation, move_size(typ, before, after))
        return


def _origin(scale) -> float | int:
    """Where a search for a missing number starts: 0, or its lowest value above 0."""
    low, _ = scale.bounds()
    return max(low, 0) if low is not None else 0


def _text_options(situation: Situation, name: str, texts: tuple) -> list[str]:
    """The texts worth trying: those the rule names, then the field's declared values;
    grades from the worst, the least a customer must bring."""
    declared = (situation.ruleset.source.stages["facts"].data.get("facts") or {}).get(
        name) or {}
    options = list(texts)
    options += [v for v in declared.get("values") or () if v not in options]
    grades = situation.ruleset.grades
    if options and all(option in grades for option in options):
        options.sort(key=grades.index, reverse=True)
    return options


def strings(text: str) -> tuple[str, ...]:
    """Text constants a condition compares with (candidate values for a text field)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return ()
    return tuple(node.value for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str))

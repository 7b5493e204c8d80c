"""Floors as a route to a grade. A floor (a parent guarantee from a well-graded guarantor
covering what the customer asks for) lifts the grade whatever the score, but only when
every part of its condition holds, which takes several inputs given together: no single
lever finds it. For each floor at the target or better, each part that does not hold is
made to hold by the nearest value of one changeable input it reads (the parts in order,
each on the inputs the earlier ones set); the whole set is then decided."""

from __future__ import annotations

from .combinations import Solution
from .fields import set_field
from .levers import Change, Situation, changes_toward, strings


def floor_solutions(situation: Situation, max_changes: int) -> list[Solution]:
    """The floors' routes to the target that, decided, reach it."""
    grades = situation.ruleset.grades
    found = []
    # The least a floor lifts to first: of two routes as small, the one asking less.
    for floor in sorted(situation.model.floors, key=lambda f: -grades.index(f.grade)):
        if grades.index(floor.grade) > situation.target_rank:
            continue
        changes = _changes_for(situation, floor.atoms)
        if not changes or len(changes) > max_changes:
            continue
        facts = situation.facts
        for change in changes:
            facts = set_field(facts, change.field, change.after)
        outcome = situation.decided(facts)
        if outcome is not None and situation.reached(outcome):
            found.append(Solution(tuple(changes), outcome))
    return found


def _changes_for(situation: Situation, atoms) -> list[Change] | None:
    """Changes that make every part hold, one input each; None when a part cannot."""
    facts, changes = situation.facts, []
    changed: set[str] = set()
    for atom in atoms:
        values = situation.model.values(facts, situation.as_of)
        if values is None:
            return None
        if atom.holds(values):
            continue
        change = None
        for name in atom.facts:
            if name in changed or not situation.changeable(name):
                continue

            def holds(v, a=atom) -> bool:
                return bool(a.holds(v))
            change = next(iter(changes_toward(situation, facts, name,
                                              (holds, holds, strings(atom.text)))), None)
            if change is not None:
                break
        if change is None:
            return None
        changes.append(change)
        changed.add(change.field)
        facts = set_field(facts, change.field, change.after)
    return changes

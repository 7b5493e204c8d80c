"""The smallest sets of levers that reach the target: fewest inputs changed, then the
smallest moves (the sum of their relative changes). Sets are proposed from what each lever
did alone (points per characteristic, blockers lifted), a set that cannot reach the band
even with the best of the remaining levers is not pursued, and every proposed set is
decided with the real pipeline: only a set whose decision reaches the grade is a solution."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..language.unary_tests import Interval
from .fields import set_fields
from .levers import Change, Lever, Outcome, Situation

MAX_PROPOSED = 20_000  # sets proposed before the search stops proposing
MAX_DECIDED = 2_000  # proposed sets decided (the others were supersets of a solution)


@dataclass(frozen=True)
class Solution:
    """Changes that, decided together, reach the target."""

    changes: tuple[Change, ...]
    outcome: Outcome

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(c.field for c in self.changes)


def target_band(situation: Situation) -> Interval | None:
    """The scores that give the target grade or a better one, by the bands."""
    info = situation.ruleset.grading_info
    grades = situation.ruleset.grades
    chosen = [interval for grade, interval in info.bands
              if grades.index(grade) <= situation.target_rank] if info else []
    if not chosen:
        return None
    lowest = min(chosen, key=lambda i: (float("-inf") if i.low is None else i.low,
                                        not i.low_closed))
    return Interval(lowest.low, lowest.low_closed, None, False)


def smallest(situation: Situation, levers: list[Lever], *, alternatives: int = 2,
             max_changes: int = 4) -> list[Solution]:
    """The smallest solution and up to ``alternatives`` more (none a superset of one
    found before), smallest first."""
    band = target_band(situation)
    if band is None:
        return []
    current = situation.current
    blocking = {b.id: b for b in situation.blocking()}
    # A lever that brings in a cap or knock-out in the way is never part of a smallest set.
    usable = [lever for lever in levers
              if not (lever.outcome.fired - current.fired) & _in_the_way(situation)]
    by_field: dict[str, list[Lever]] = defaultdict(list)
    for lever in usable:
        by_field[lever.change.field].append(lever)
    gain = {name: max(_score_change(current, lever) for lever in group)
            for name, group in by_field.items()}
    fields = sorted(by_field, key=lambda name: (-gain[name], name))
    proposed: list[tuple[Lever, ...]] = []

    def estimate(chosen: list[Lever]) -> tuple[object, set[str]]:
        changes: dict[str, object] = {}
        for lever in chosen:
            for characteristic, (_, points) in lever.outcome.points.items():
                was = current.points.get(characteristic, (None, 0))[1]
                if points != was:
                    delta = points - was
                    if characteristic not in changes or delta > changes[characteristic]:
                        changes[characteristic] = delta
        score = current.score + sum(changes.values())
        left = set()
        for blocker_id in blocking:
            lifted = any(blocker_id not in lever.outcome.fired for lever in chosen)
            touched = sum(1 for lever in chosen if blocker_id in lever.touches)
            if not lifted and touched < 2:
                left.add(blocker_id)
        return score, left

    def search(start: int, chosen: list[Lever]) -> None:
        if len(proposed) >= MAX_PROPOSED:
            return
        score, left = estimate(chosen) if chosen else (current.score, set(blocking))
        if chosen and not left and _in_band(score, band):
            proposed.append(tuple(chosen))
            return
        room = max_changes - len(chosen)
        if room == 0 or start >= len(fields):
            return
        rest = sorted((max(gain[name], 0) for name in fields[start:]), reverse=True)
        if not _in_band(score + sum(rest[:room]), band):
            return
        if any(not any(name in blocking[b].facts for name in fields[start:]) for b in left):
            return
        for index in range(start, len(fields)):
            for lever in by_field[fields[index]]:
                search(index + 1, [*chosen, lever])

    search(0, [])
    proposed.sort(key=lambda levers_: (len(levers_), sum(lv.change.size for lv in levers_),
                                       [lv.change.field for lv in levers_]))
    found: list[Solution] = []
    decided = 0
    for chosen in proposed:
        if decided >= MAX_DECIDED or len(found) > alternatives:
            break
        names = frozenset(lever.change.field for lever in chosen)
        if any(solution.fields <= names for solution in found):
            continue
        if found and len(names) > len(found[0].fields) + 1:
            break
        changes = tuple(lever.change for lever in chosen)
        decided += 1
        outcome = situation.decided(set_fields(situation.facts,
                                               {c.field: c.after for c in changes}))
        if outcome is not None and situation.reached(outcome):
            found.append(Solution(changes, outcome))
    return found


def merged(solutions: list[Solution], more: list[Solution], alternatives: int
           ) -> list[Solution]:
    """Two lists of solutions as one, smallest first, none a superset of one before it,
    at most the smallest and ``alternatives`` more."""
    ordered = sorted([*solutions, *more], key=lambda s: (
        len(s.changes), sum(c.size for c in s.changes), [c.field for c in s.changes]))
    kept: list[Solution] = []
    for solution in ordered:
        if not any(other.fields <= solution.fields for other in kept):
            kept.append(solution)
    return kept[:alternatives + 1]


def best_score(situation: Situation, levers: list[Lever]) -> object:
    """The highest score the levers could give together, by what each did alone (the
    best of each characteristic's points)."""
    current = situation.current
    best: dict[str, object] = {}
    for lever in levers:
        for characteristic, (_, points) in lever.outcome.points.items():
            was = current.points.get(characteristic, (None, 0))[1]
            best[characteristic] = max(best.get(characteristic, 0), points - was)
    return current.score + sum(best.values())


def _in_the_way(situation: Situation) -> set[str]:
    grades = situation.ruleset.grades
    return {b.id for b in situation.model.blockers
            if b.kind == "knock-out" or grades.index(b.grade) > situation.target_rank}


def _score_change(current: Outcome, lever: Lever) -> object:
    return lever.outcome.score - current.score


def _in_band(score: object, band: Interval) -> bool:
    return band.contains(score)

"""``explain_decision``: from a recorded decision and a grade, the smallest changes to the
customer's inputs that reach it, each decided; the levers each input offers alone; what
needs a change no one input makes; and, when the grade cannot be reached, why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..audit.store import AuditError, AuditStore
from ..canonical import Exact, to_jsonable
from ..decide.pipeline import decide
from ..errors import CreditRulesError, DecisionError
from ..replay import Replayer
from ..ruleset.compiler import CompiledRuleset
from .combinations import Solution, best_score, merged, smallest, target_band
from .floors import floor_solutions
from .levers import Change, Lever, Outcome, Situation, find_levers
from .model import Blocker, Model

# Inputs a customer cannot change by acting (where and when it was founded, its industry,
# a closed period's figures, what third parties report, a sanctions listing, insolvency
# proceedings): never suggested unless asked for (``allow``). A name ending in "." stands
# for every field under it.
NOT_CHANGEABLE = ("founded", "country", "legal_form", "industry.", "indicators.",
                  "bureau.", "financials.revenue_prior", "flags.sanctions_hit",
                  "flags.insolvency_proceedings")


class ExplainUsageError(CreditRulesError):
    """A request that cannot be explained as asked: an unknown decision or grade, a field
    the ruleset does not read, or a ruleset other than the record's."""


@dataclass(frozen=True)
class Needed:
    """A better bin of a characteristic that no single changeable input reaches: the
    change of its input (a derived fact or an expression) and the inputs that feed it."""

    characteristic: str
    input: str
    value: object
    bin: str
    points: object
    fields: tuple[str, ...]
    not_changeable: tuple[str, ...]


@dataclass
class Explanation:
    """What it would take for a recorded customer to reach ``target``."""

    decision_id: str
    customer_id: str
    as_of: dt.date
    ruleset: dict
    target: str
    band: str
    current: Outcome
    status: str  # "already" | "reachable" | "unreachable"
    solutions: list[Solution] = field(default_factory=list)
    levers: list[Lever] = field(default_factory=list)
    blockers: list[dict] = field(default_factory=list)
    needed: list[Needed] = field(default_factory=list)
    not_changeable: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The documented JSON form (schemas/explanation.schema.json)."""
        return {
            "decision_id": self.decision_id,
            "customer_id": self.customer_id,
            "as_of": self.as_of.isoformat(),
            "ruleset": self.ruleset,
            "target": {"grade": self.target, "score": self.band},
            "current": _outcome(self.current),
            "status": self.status,
            "unreachable": self.unreachable,
            "solutions": [{"changes": [_change(c) for c in s.changes],
                           "decided": _outcome(s.outcome)} for s in self.solutions],
            "levers": [{"change": _change(lever.change),
                        "score_change": _number(lever.outcome.score - self.current.score),
                        "lifts": sorted(self.current.fired - lever.outcome.fired),
                        "ends_part_of": sorted(lever.touches - (self.current.fired -
                                                                lever.outcome.fired)),
                        "moves": [{"characteristic": c, "from_bin": before, "to_bin": after,
                                   "points": _number(points)}
                                  for c, before, after, points in moves(lever, self.current)],
                        "decided": _outcome(lever.outcome)} for lever in self.levers],
            "blockers": self.blockers,
            "needed": [{"characteristic": n.characteristic, "input": n.input,
                        "value": to_jsonable(n.value), "bin": n.bin,
                        "points": _number(n.points), "fields": list(n.fields),
                        "not_changeable": list(n.not_changeable)} for n in self.needed],
            "not_changeable": self.not_changeable,
        }


def explain_decision(store: AuditStore, ref: str, grade: str, *,
                     allow: Sequence[str] = (), ruleset: CompiledRuleset | None = None,
                     alternatives: int = 2, max_changes: int = 4) -> Explanation:
    """Explain the decision recorded as ``ref`` (a decision id or a record number) toward
    ``grade``. ``allow`` names fields changeable after all (see NOT_CHANGEABLE);
    ``ruleset``, when given, must be the one the record names. Raises ExplainUsageError
    for what cannot be asked (a grade, a field, a ruleset), AuditError when the trail
    holds no such decision (as ``audit show`` and ``replay`` say it), DecisionError when
    the record cannot be decided again as it was."""
    row = store.record(ref)
    if row["kind"] != "decision":
        article = "an" if row["kind"][:1] in ("a", "e", "i", "o", "u") else "a"
        raise AuditError(f"record {row['seq']} is {article} {row['kind']} record, "
                         "not a decision")
    stored = Replayer(store).ruleset(row["ruleset_hash"])
    if ruleset is not None and ruleset.hash != row["ruleset_hash"]:
        raise ExplainUsageError(
            f"ruleset {ruleset.name} {ruleset.version} ({ruleset.hash[:12]}) is not the one "
            f"decision {row['decision_id']} was made under ({row['ruleset_hash'][:12]}); "
            "leave out --ruleset to use the recorded one")
    if grade not in stored.grades:
        raise ExplainUsageError(f"unknown grade '{grade}': the ruleset's grades are "
                                f"{', '.join(stored.grades)}")
    model = Model(stored)
    unknown = [name for name in allow if not _reads(model, name)]
    if unknown:
        raise ExplainUsageError(f"--allow {unknown[0]}: the ruleset reads no such field")
    body = store.body(row)
    facts, as_of = body["input"], dt.date.fromisoformat(body["as_of"])
    decision = decide(stored, facts, as_of)
    if decision.decision_id != row["decision_id"]:
        raise DecisionError(f"record {row['seq']} does not decide again to its decision id "
                            f"(credit replay {row['seq']} shows the difference)")

    def changeable(name: str) -> bool:
        if any(_covers(pattern, name) for pattern in allow):
            return True
        return not any(_covers(pattern, name) for pattern in NOT_CHANGEABLE)

    situation = Situation(stored, model, facts, as_of, Outcome.of(decision, model),
                          stored.grades.index(grade), changeable)
    band = target_band(situation)
    explanation = Explanation(
        row["decision_id"], decision.customer_id, as_of, stored.identity, grade,
        _band_text(band), situation.current, "already")
    explanation.blockers = [_blocker(b, changeable) for b in situation.blocking()]
    fed = {f for c in model.characteristics for f in c.facts} | \
        {f for b in situation.blocking() for f in b.facts}
    explanation.not_changeable = sorted(f for f in fed if not changeable(f))
    if situation.reached(situation.current):
        return explanation
    levers = find_levers(situation)
    explanation.levers = sorted(levers, key=lambda lv: (lv.change.field, lv.change.size))
    explanation.needed = _needed(situation, levers)
    explanation.solutions = merged(
        smallest(situation, levers, alternatives=alternatives, max_changes=max_changes),
        floor_solutions(situation, max_changes), alternatives)
    if explanation.solutions:
        explanation.status = "reachable"
    else:
        explanation.status = "unreachable"
        explanation.unreachable = _why_not(situation, levers, band, grade, max_changes,
                                           changeable)
    return explanation


def moves(lever: Lever, current: Outcome) -> list[tuple[str, object, object, object]]:
    """The characteristics a lever moves: (id, bin before, bin after, points gained)."""
    found = []
    for characteristic, (after, points) in lever.outcome.points.items():
        before, was = current.points.get(characteristic, (None, 0))
        if after != before:
            found.append((characteristic, before, after, points - was))
    return found


def _reads(model: Model, name: str) -> bool:
    return any(_covers(name, fact) for fact in model.ruleset.fact_types)


def _covers(pattern: str, name: str) -> bool:
    return name == pattern or (pattern.endswith(".") and name.startswith(pattern))


def _band_text(band) -> str:
    if band is None or band.low is None:
        return "any score"
    return f"{'>=' if band.low_closed else '>'} {to_jsonable(band.low)}"


def _blocker(blocker: Blocker, changeable) -> dict:
    return {"id": blocker.id, "kind": blocker.kind, "reason": blocker.reason,
            "grade": blocker.grade, "when": blocker.condition.text.strip(),
            "fields": list(blocker.facts),
            "changeable": [f for f in blocker.facts if changeable(f)]}


def _needed(situation: Situation, levers: list[Lever]) -> list[Needed]:
    """Better bins of characteristics whose input is not one field as it stands (a
    derived fact, an expression) that no single changeable input reaches: a change of
    the derived value, for the inputs that feed it together."""
    values = situation.model.values(situation.facts, situation.as_of)
    if values is None:
        return []
    found = []
    for characteristic in situation.model.characteristics:
        if characteristic.direct or not any(situation.changeable(f)
                                            for f in characteristic.facts):
            continue
        value = characteristic.value(values)
        now = characteristic.bin_of(value)
        now_points = now.points if now else 0
        for bin_ in characteristic.bins:
            if bin_.kind not in ("range", "values") or bin_.points <= now_points:
                continue
            if any(lever.outcome.points.get(characteristic.id, (None, 0))[1] >= bin_.points
                   for lever in levers):
                continue
            found.append(Needed(
                characteristic.id, characteristic.input_text.strip(), value, bin_.id,
                bin_.points - now_points, characteristic.facts,
                tuple(f for f in characteristic.facts if not situation.changeable(f))))
    return found


def _why_not(situation: Situation, levers: list[Lever], band, grade: str,
             max_changes: int, changeable) -> list[str]:
    """Readable reasons the target cannot be reached, the most basic first."""
    reasons = []
    for blocker in situation.blocking():
        if not any(changeable(f) for f in blocker.facts):
            what = "rejects" if blocker.kind == "knock-out" else f"caps the grade at " \
                f"{blocker.grade}"
            if not blocker.facts:
                reasons.append(f"{blocker.id} {what} ({blocker.reason}): it reads no input "
                               "of the customer")
                continue
            reasons.append(f"{blocker.id} {what} ({blocker.reason}): it depends on "
                           f"{', '.join(blocker.facts)}, which "
                           f"{'is' if len(blocker.facts) == 1 else 'are'} not changeable "
                           f"(--allow {blocker.facts[0]} to consider changing it)")
    if situation.current.outcome == "reject" and not any(
            b.kind == "knock-out" for b in situation.blocking()):
        reasons.append(f"the decision is rejected ({', '.join(situation.current.reasons)}) "
                       "by no rule on the customer's inputs")
    if reasons:
        return reasons
    top = best_score(situation, levers)
    if band is not None and not band.contains(top):
        reasons.append(f"the changeable inputs raise the score to at most "
                       f"{to_jsonable(top)}; {grade} needs {_band_text(band)}")
    else:
        reasons.append(f"no set of up to {max_changes} changed inputs reaches {grade} "
                       "when decided")
    return reasons


def _outcome(outcome: Outcome) -> dict:
    return {"grade": outcome.grade, "score": _number(outcome.score),
            "band_grade": outcome.band_grade, "outcome": outcome.outcome,
            "reasons": list(outcome.reasons)}


def _change(change: Change) -> dict:
    return {"field": change.field, "from": to_jsonable(change.before),
            "to": to_jsonable(change.after), "relation": change.relation}



def _number(value: object) -> object:
    """An exact number (a score, points) as a JSON number with the digits it has."""
    return to_jsonable(Exact(value) if isinstance(value, Decimal) else value)

"""What a simulation found: each customer's outcome under the baseline and the candidate
ruleset, added up into four tables (grade migration, admission outcomes that change,
granted limits by grade, the customers that move the most) and a summary.

Only counts, sums and the top movers are kept, so memory stays flat whatever the number
of customers. A rejected customer is in the ``rejected`` row/column of the migration
matrix (its grade means nothing); one the rules could not decide is ``not_decided``.
The granted limit is the credit limit of an accepted decision (a referred one still waits
for a person and is totalled apart; a rejected one has none).
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

REJECTED = "rejected"
NOT_DECIDED = "not_decided"
OUTCOME_ORDER = ("accept", "refer", "reject", NOT_DECIDED)
TABLES = ("migration", "outcomes", "limits", "movers")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Side:
    """One customer's decision under one ruleset (``error`` set when not decided)."""

    outcome: str | None
    grade: str | None
    limit: Decimal | None
    error: str | None = None

    @property
    def category(self) -> str:
        """Its row or column in the migration matrix."""
        if self.outcome is None:
            return NOT_DECIDED
        return REJECTED if self.outcome == "reject" else self.grade

    @property
    def granted(self) -> Decimal:
        return self.limit if self.outcome == "accept" and self.limit is not None else ZERO


@dataclass
class Simulation:
    """The running totals of a simulation; ``add`` one customer at a time."""

    baseline: dict
    candidate: dict
    source: str
    grades: tuple[str, ...]  # both scales, the baseline's order first
    currency: str = ""
    quantum: Decimal = Decimal("0.01")
    ref_name: str = "row"  # what identifies a customer's input: a row or an audit seq
    top: int = 20
    customers: int = 0
    unreadable: int = 0  # inputs that could not be read (bad rows)
    matrix: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    accepted: dict = field(default_factory=lambda: {"old": Counter(), "new": Counter()})
    granted: dict = field(default_factory=lambda: {"old": {}, "new": {}})
    referred: dict = field(default_factory=lambda: {"old": ZERO, "new": ZERO})
    _movers: list = field(default_factory=list, repr=False)

    def add(self, ref: int, customer_id: str | None, old: Side, new: Side) -> None:
        """Count one customer decided under both rulesets."""
        self.customers += 1
        self.matrix[old.category, new.category] += 1
        self.outcomes[old.outcome or NOT_DECIDED, new.outcome or NOT_DECIDED] += 1
        for side, decided in (("old", old), ("new", new)):
            if decided.outcome == "accept" and decided.limit is not None:
                self.accepted[side][decided.grade] += 1
                sums = self.granted[side]
                sums[decided.grade] = sums.get(decided.grade, ZERO) + decided.limit
            elif decided.outcome == "refer" and decided.limit is not None:
                self.referred[side] += decided.limit
        notches = self.notches(old, new)
        change = new.granted - old.granted
        if self.top > 0 and (notches or change or old.category != new.category
                             or old.outcome != new.outcome):
            key = (abs(notches or 0), abs(change), -ref)
            entry = (key, ref, customer_id, old, new, notches, change)
            if len(self._movers) < self.top:
                heapq.heappush(self._movers, entry)
            elif key > self._movers[0][0]:
                heapq.heapreplace(self._movers, entry)

    def notches(self, old: Side, new: Side) -> int | None:
        """Grades moved, positive when better (as overrides count them); a rejection is one
        notch below the worst grade; None when either side was not decided."""
        ranks = []
        for side in (old, new):
            if side.outcome is None:
                return None
            ranks.append(len(self.grades) if side.outcome == "reject"
                         else self.grades.index(side.grade))
        return ranks[0] - ranks[1]

    # -- tables -------------------------------------------------------------------------
    def categories(self) -> list[str]:
        """The migration matrix's rows and columns: every grade, then rejected, then
        not_decided when any customer was not decided."""
        found = {c for pair in self.matrix for c in pair}
        return [*self.grades, REJECTED] + ([NOT_DECIDED] if NOT_DECIDED in found else [])

    def columns(self, table: str) -> list[str]:
        """The column names of one of TABLES."""
        if table == "migration":
            return ["old_grade", *self.categories(), "total"]
        if table == "outcomes":
            return ["old_outcome", "new_outcome", "customers"]
        if table == "limits":
            return ["grade", "old_accepted", "old_granted", "new_accepted", "new_granted",
                    "change"]
        return ["customer_id", self.ref_name, "old_grade", "new_grade", "notches",
                "old_outcome", "new_outcome", "old_granted", "new_granted", "limit_change"]

    def rows(self, table: str) -> list[dict]:
        """The rows of one of TABLES."""
        return getattr(self, f"_{table}_rows")()

    def _migration_rows(self) -> list[dict]:
        categories = self.categories()
        rows = []
        for old in categories:
            row = {"old_grade": old, **{new: self.matrix[old, new] for new in categories}}
            row["total"] = sum(self.matrix[old, new] for new in categories)
            rows.append(row)
        total = {"old_grade": "total",
                 **{new: sum(self.matrix[old, new] for old in categories)
                    for new in categories}}
        total["total"] = self.customers
        return [*rows, total]

    def _outcomes_rows(self) -> list[dict]:
        """Only the outcomes that change, most frequent first."""
        pairs = [(pair, n) for pair, n in self.outcomes.items() if pair[0] != pair[1]]
        pairs.sort(key=lambda item: (-item[1], OUTCOME_ORDER.index(item[0][0]),
                                     OUTCOME_ORDER.index(item[0][1])))
        return [{"old_outcome": old, "new_outcome": new, "customers": n}
                for (old, new), n in pairs]

    def _limits_rows(self) -> list[dict]:
        rows = []
        for grade in [*self.grades, "total"]:
            if grade == "total":
                counts = [sum(self.accepted[s].values()) for s in ("old", "new")]
                sums = [sum(self.granted[s].values(), ZERO) for s in ("old", "new")]
            else:
                counts = [self.accepted[s][grade] for s in ("old", "new")]
                sums = [self.granted[s].get(grade, ZERO) for s in ("old", "new")]
            rows.append({"grade": grade, "old_accepted": counts[0],
                         "old_granted": self.money(sums[0]), "new_accepted": counts[1],
                         "new_granted": self.money(sums[1]),
                         "change": self.money(sums[1] - sums[0], signed=True)})
        return rows

    def _movers_rows(self) -> list[dict]:
        ordered = sorted(self._movers, key=lambda entry: entry[0], reverse=True)
        return [{"customer_id": customer_id, self.ref_name: ref,
                 "old_grade": old.category, "new_grade": new.category, "notches": notches,
                 "old_outcome": old.outcome or NOT_DECIDED,
                 "new_outcome": new.outcome or NOT_DECIDED,
                 "old_granted": self.money(old.granted),
                 "new_granted": self.money(new.granted),
                 "limit_change": self.money(change, signed=True)}
                for _, ref, customer_id, old, new, notches, change in ordered]

    def money(self, amount: Decimal, signed: bool = False) -> str:
        """An amount as decimal text at the ruleset's rounding (``+`` shown if signed)."""
        value = amount.quantize(self.quantum)
        return f"{value:+f}" if signed and value else format(value, "f")

    # -- summary ------------------------------------------------------------------------
    def summary(self) -> dict:
        """Headline counts and totals."""
        rank = {c: i for i, c in enumerate([*self.grades, REJECTED])}
        upgrades = downgrades = other = 0
        for (old, new), n in self.matrix.items():
            if old == new:
                continue
            if NOT_DECIDED in (old, new):
                other += n
                continue
            if rank[new] < rank[old]:
                upgrades += n
            else:
                downgrades += n
        granted = [sum(self.granted[s].values(), ZERO) for s in ("old", "new")]
        return {
            "customers": self.customers, "unreadable": self.unreadable,
            "not_decided": {"old": sum(n for (o, _), n in self.matrix.items()
                                       if o == NOT_DECIDED),
                            "new": sum(n for (_, c), n in self.matrix.items()
                                       if c == NOT_DECIDED)},
            "unchanged": sum(n for (o, c), n in self.matrix.items() if o == c),
            "upgraded": upgrades, "downgraded": downgrades, "other_moves": other,
            "outcome_changed": sum(n for (o, c), n in self.outcomes.items() if o != c),
            "granted": {"old": self.money(granted[0]), "new": self.money(granted[1]),
                        "change": self.money(granted[1] - granted[0], signed=True)},
            "referred": {"old": self.money(self.referred["old"]),
                         "new": self.money(self.referred["new"])},
        }

    def to_dict(self) -> dict:
        """The whole report as JSON-ready data."""
        return {"baseline": self.baseline, "candidate": self.candidate,
                "source": self.source, "currency": self.currency, "summary": self.summary(),
                **{table: self.rows(table) for table in TABLES}}

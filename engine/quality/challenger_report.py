"""How a challenger compares with its champion over recorded decisions
(``credit audit stats --challenger``): added up one record at a time into four tables.

- ``pairs``: which champion ran with which challenger (and share), how many decisions, how
  many the challenger could not decide;
- ``agreement``: how often the two agree on the admission outcome, on the grade (a
  rejection is its own grade, ``rejected``, as in a simulation), on the granted limit, and
  on all three;
- ``migration``: rows the champion's grade, columns the challenger's (``rejected``, and
  ``not_decided`` when the challenger could not decide);
- ``limits``: per champion grade, the granted limits under each (the limit of an accepted
  decision; none otherwise), their difference, and how many got more, less or the same.

Only counts and sums are kept, so memory stays flat whatever the trail's length.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..audit.queries import Filters, grade_scale
from ..audit.store import AuditStore
from .simulation_report import NOT_DECIDED, REJECTED, ZERO, Side

TABLES = ("pairs", "agreement", "migration", "limits")
MEASURES = ("outcome", "grade", "granted_limit", "all")
COLUMNS = {
    "pairs": ("champion", "challenger", "share", "decisions", "challenger_failed"),
    "agreement": ("measure", "decisions", "agree", "differ", "rate"),
    "limits": ("champion_grade", "decisions", "champion_granted", "challenger_granted",
               "difference", "challenger_higher", "challenger_lower", "same"),
}


def side_of_record(outcome: str | None, grade: str | None, limit: str | None) -> Side:
    """The champion's side of a decision record (its header columns)."""
    return Side(outcome, grade, None if limit is None else Decimal(limit))


def side_of_part(part: dict) -> Side:
    """The challenger's side, from the part recorded beside the champion's decision."""
    if "error" in part:
        return Side(None, None, None, part["error"])
    decided = part["decision"]
    limit = decided["credit_limit"]
    return Side(decided["outcome"], decided["grade"],
                None if limit is None else Decimal(limit))


def _identity(ruleset: dict) -> str:
    return f"{ruleset['name']} {ruleset['version']} ({ruleset['hash'][:12]})"


@dataclass
class ChallengerReport:
    """Running totals; ``add`` one recorded decision with a challenger part at a time.
    ``grades`` orders the rows and columns (grades first, best first)."""

    grades: tuple[str, ...] = ()
    decisions: int = 0
    pairs: Counter = field(default_factory=Counter)
    pair_failed: Counter = field(default_factory=Counter)
    agree: Counter = field(default_factory=Counter)
    matrix: Counter = field(default_factory=Counter)
    granted: dict = field(default_factory=dict)  # champion category -> [old, new]
    moved: Counter = field(default_factory=Counter)  # (category, higher/lower/same)
    places: int = 0  # decimal places of the amounts seen, so that sums show alike

    def add(self, champion_ruleset: dict, part: dict, champion: Side,
            challenger: Side) -> None:
        """Count one decision recorded with a challenger part."""
        self.decisions += 1
        for side in (champion, challenger):
            if side.limit is not None:
                self.places = max(self.places, -side.limit.as_tuple().exponent)
        pair = (_identity(champion_ruleset), _identity(part["ruleset"]), part["share"])
        self.pairs[pair] += 1
        if challenger.error is not None:
            self.pair_failed[pair] += 1
        same = {"outcome": champion.outcome == challenger.outcome,
                "grade": champion.category == challenger.category,
                "granted_limit": challenger.error is None
                and champion.granted == challenger.granted}
        same["all"] = all(same.values())
        for measure, agreed in same.items():
            self.agree[measure] += agreed
        row = champion.category
        self.matrix[row, challenger.category] += 1
        sums = self.granted.setdefault(row, [ZERO, ZERO])
        sums[0] += champion.granted
        sums[1] += challenger.granted
        change = challenger.granted - champion.granted
        self.moved[row, "higher" if change > 0 else "lower" if change < 0 else "same"] += 1

    def categories(self) -> list[str]:
        """Every row or column label seen, grades in scale order, then the others."""
        seen = {c for pair in self.matrix for c in pair}
        known = [g for g in self.grades if g in seen]
        others = sorted(seen - set(self.grades) - {REJECTED, NOT_DECIDED})
        return known + others + [c for c in (REJECTED, NOT_DECIDED) if c in seen]

    def columns(self, table: str) -> tuple[str, ...]:
        """The columns of one table."""
        if table == "migration":
            return ("champion", *self.categories(), "total")
        return COLUMNS[table]

    def rows(self, table: str) -> list[dict]:
        """One table's rows, JSON-ready (amounts as decimal text, rates as fractions)."""
        if table == "pairs":
            return [{"champion": champion, "challenger": challenger, "share": share,
                     "decisions": count,
                     "challenger_failed": self.pair_failed[champion, challenger, share]}
                    for (champion, challenger, share), count in sorted(self.pairs.items())]
        if table == "agreement":
            return [{"measure": m, "decisions": self.decisions, "agree": self.agree[m],
                     "differ": self.decisions - self.agree[m],
                     "rate": round(self.agree[m] / self.decisions, 4) if self.decisions
                     else None} for m in MEASURES] if self.decisions else []
        labels = self.categories()
        if table == "migration":
            rows = []
            for row in labels:
                counts = {col: self.matrix[row, col] for col in labels}
                if any(counts.values()):
                    rows.append({"champion": row, **counts, "total": sum(counts.values())})
            return rows
        rows, totals = [], [0, ZERO, ZERO, Counter()]
        for row in labels:
            if row not in self.granted:
                continue
            old, new = self.granted[row]
            moved = {k: self.moved[row, k] for k in ("higher", "lower", "same")}
            count = sum(moved.values())
            rows.append(self._limit_row(row, count, old, new, moved))
            totals[0] += count
            totals[1] += old
            totals[2] += new
            totals[3].update(moved)
        if rows:
            rows.append(self._limit_row("total", totals[0], totals[1], totals[2], totals[3]))
        return rows

    def _limit_row(self, label: str, count: int, old: Decimal, new: Decimal, moved) -> dict:
        quantum = Decimal(1).scaleb(-self.places)

        def amount(value: Decimal) -> str:
            return format(value.quantize(quantum), "f")

        return {"champion_grade": label, "decisions": count,
                "champion_granted": amount(old), "challenger_granted": amount(new),
                "difference": amount(new - old), "challenger_higher": moved["higher"],
                "challenger_lower": moved["lower"], "same": moved["same"]}

    def to_dict(self) -> dict:
        """Every table, by name."""
        return {name: self.rows(name) for name in TABLES}


def challenger_stats(store: AuditStore, filters: Filters) -> ChallengerReport:
    """The champion against its challenger over every decision record (matching
    ``filters``, which select by the champion's columns) that has a challenger part."""
    where, params = Filters(**{**filters.__dict__, "kind": "decision", "limit": None}).where()
    # A format-1 body with a challenger part starts with it (canonical JSON: keys in order),
    # so the others are skipped unread; a compressed one is read to know.
    sql = ("SELECT * FROM (SELECT seq, outcome, grade, credit_limit, ruleset_name, "
           "ruleset_version, ruleset_hash, json_extract(body_json(body), '$.challenger') "
           f"AS part FROM records{where} AND (typeof(body) = 'blob' OR body LIKE "
           "'{\"as_of\":\"__________\",\"challenger\":%')) WHERE part IS NOT NULL "
           "ORDER BY seq")
    report = ChallengerReport()
    scales: dict[str, tuple[str, ...]] = {}
    for row in store.iter_rows(sql, params):
        part = json.loads(row["part"])
        for ruleset_hash in (row["ruleset_hash"], part["ruleset"]["hash"]):
            if ruleset_hash not in scales:
                scales[ruleset_hash] = grade_scale(store, ruleset_hash)
        report.add({"name": row["ruleset_name"], "version": row["ruleset_version"],
                    "hash": row["ruleset_hash"]}, part,
                   side_of_record(row["outcome"], row["grade"], row["credit_limit"]),
                   side_of_part(part))
    report.grades = tuple(dict.fromkeys(g for scale in scales.values() for g in scale))
    return report

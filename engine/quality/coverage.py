"""Rule coverage: which rules, table rows, scorecard bins, score bands, caps and floors a
ruleset's own cases reach, counted from the traces of their decisions (and of their
escalation questions), and which monitoring rules their account cases fire. A cap or floor
is reached when it changes a grade, a derived fact when it has a value.

Every item is found statically in the ruleset's files, with its location, so an item no
case reaches is listed too. A table's no-match fallback, the approval stage's highest
level by default, the negative-limit guard and a value that falls in no bin are engine
fallbacks rather than rules: they are listed when a case reaches them, not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import Location
from ..ruleset.compiler import CompiledRuleset
from .ruleset_cases import CaseResult

STAGE_ORDER = ("derived", "admission", "grading", "policy", "approval", "escalation",
               "monitoring")
_TABLE_STAGES = {"policy": "policy", "approval": "approval", "escalation": "escalation"}
_FALLBACKS = {"highest_level_by_default": "fallback", "credit_limit_not_negative": "guard"}


@dataclass
class CoverageItem:
    """One thing a case can reach: its stage, kind (check, derived, row, default, bin,
    band, cap, floor, rule; not counted: no_match, no_bin, fallback, guard), id, where it is
    written, and how many cases reached it."""

    stage: str
    kind: str
    id: str
    location: Location
    hits: int = 0
    counted: bool = True

    def to_dict(self) -> dict:
        return {"stage": self.stage, "kind": self.kind, "id": self.id, "hits": self.hits,
                "counted": self.counted, "location": str(self.location)}


@dataclass
class Coverage:
    """The items of a ruleset with the number of cases that reached each."""

    cases: int
    items: list[CoverageItem] = field(default_factory=list)

    @property
    def counted(self) -> list[CoverageItem]:
        return [i for i in self.items if i.counted]

    @property
    def missed(self) -> list[CoverageItem]:
        """Counted items no case reaches, in stage and file order."""
        return [i for i in self.counted if i.hits == 0]

    @property
    def percent(self) -> float:
        counted = self.counted
        if not counted:
            return 100.0
        return round(100.0 * (len(counted) - len(self.missed)) / len(counted), 1)

    def to_dict(self) -> dict:
        """The coverage as JSON-ready data."""
        counted = self.counted
        return {"cases": self.cases, "total": len(counted),
                "covered": len(counted) - len(self.missed), "percent": self.percent,
                "items": [i.to_dict() for i in self.items],
                "missed": [i.to_dict() for i in self.missed]}


def measure_coverage(ruleset: CompiledRuleset, results: Iterable[CaseResult]) -> Coverage:
    """Count, for every item of ``ruleset``, the cases whose decision reached it."""
    items = ruleset_items(ruleset)
    by_key = {(i.stage, i.kind, i.id): i for i in items}
    by_slot = {(i.stage, i.id): i for i in items if i.kind not in ("bin", "band")}
    cases = 0
    for result in results:
        cases += 1
        reached: set[tuple[str, str, str]] = set()
        if result.band_grade is not None:
            reached.add(("grading", "band", result.band_grade))
        for (_, stage, rule_id, _), _, outcome in result.trace:
            if _exercised(stage, outcome):
                reached.add(_key(stage, rule_id, outcome, by_slot))
        reached.update(("monitoring", "rule", rule_id) for rule_id in result.fired)
        for key in reached:
            item = by_key.get(key)
            if item is None:  # a fallback, listed only once reached
                stage, kind, item_id = key
                doc = ruleset.source.stages.get(stage)
                where = doc.locate(()) if doc else Location(ruleset.source.label)
                item = by_key[key] = CoverageItem(stage, kind, item_id, where, counted=False)
                items.append(item)
            item.hits += 1
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    items.sort(key=lambda i: (order.get(i.stage, len(order)), not i.counted))
    return Coverage(cases, items)


def _exercised(stage: str, outcome: object) -> bool:
    """Whether a trace entry exercised its item: a cap or floor counts when it changed
    the grade (not merely when its condition held), a derived fact when it had a value."""
    if isinstance(outcome, Mapping) and outcome.get("applied") is False:
        return False
    return not (stage == "derived" and outcome is None)


def _key(stage: str, rule_id: str, outcome: object, by_slot: Mapping) -> tuple[str, str, str]:
    """The item a trace entry stands for."""
    if stage == "grading" and isinstance(outcome, Mapping) and "bin" in outcome:
        if outcome["bin"] is None:
            return ("grading", "no_bin", rule_id)
        return ("grading", "bin", f"{rule_id}/{outcome['bin']}")
    item = by_slot.get((stage, rule_id))
    if item is not None:
        return (item.stage, item.kind, item.id)
    if rule_id.endswith("/no_match"):
        return (stage, "no_match", rule_id)
    return (stage, _FALLBACKS.get(rule_id, "other"), rule_id)


def ruleset_items(ruleset: CompiledRuleset) -> list[CoverageItem]:
    """Every countable item of the ruleset, located in its file, with no hits yet."""
    stages = ruleset.source.stages
    items: list[CoverageItem] = []
    if "derived" in stages:
        doc = stages["derived"]
        for name, entry in (doc.data.get("derived") or {}).items():
            if isinstance(entry, Mapping) and "table" in entry:
                items += _table_items("derived", doc, entry["table"], ("derived", name, "table"),
                                      entry["table"].get("id", name))
            else:
                items.append(CoverageItem("derived", "derived", name,
                                          doc.locate(("derived", name))))
    doc = stages["admission"]
    items += [CoverageItem("admission", "check", check["id"], doc.locate(("checks", index)))
              for index, check in enumerate(doc.data.get("checks") or [])]
    items += _grading_items(ruleset)
    for stage, default_id in _TABLE_STAGES.items():
        if stage not in stages:
            continue
        doc = stages[stage]
        spec = doc.data["table"]
        items += _table_items(stage, doc, spec, ("table",), spec.get("id", default_id))
        if stage == "policy" and doc.data.get("exposure_check"):
            items.append(CoverageItem("policy", "check", "exposure_check",
                                      doc.locate(("exposure_check",))))
    if "monitoring" in stages:
        doc = stages["monitoring"]
        items += [CoverageItem("monitoring", "rule", rule["id"], doc.locate(("rules", index)))
                  for index, rule in enumerate(doc.data["rules"])]
    return items


def _table_items(stage: str, doc, spec: Mapping, path: tuple, table_id: str
                 ) -> list[CoverageItem]:
    items = [CoverageItem(stage, "row", f"{table_id}/{rule['id']}",
                          doc.locate((*path, "rules", index)))
             for index, rule in enumerate(spec.get("rules") or [])]
    if "default" in spec:
        items.append(CoverageItem(stage, "default", f"{table_id}/default",
                                  doc.locate((*path, "default"))))
    return items


def _grading_items(ruleset: CompiledRuleset) -> list[CoverageItem]:
    doc = ruleset.source.stages["grading"]
    info = ruleset.grading_info
    items = []
    for char in info.characteristics:
        bins = sorted(char.bins, key=lambda b: b.index)
        items += [CoverageItem("grading", "bin", f"{char.id}/{b.id}", doc.locate((
            "scorecard", "characteristics", char.index, "bins", b.index))) for b in bins]
    band_index = {band["grade"]: index for index, band in enumerate(doc.data["bands"])}
    items += [CoverageItem("grading", "band", grade, doc.locate(("bands", band_index[grade])))
              for grade in ruleset.grades if grade in band_index]
    for index, adjustment in enumerate(doc.data.get("adjustments") or []):
        kind = "cap" if "at_most" in adjustment else "floor"
        items.append(CoverageItem("grading", kind, adjustment["id"],
                                  doc.locate(("adjustments", index))))
    return items


def coverage_lines(coverage: Coverage) -> list[str]:
    """The coverage as text: a summary line, every item by stage with the number of
    cases that reached it, then each counted item no case reaches, located."""
    counted = coverage.counted
    covered = len(counted) - len(coverage.missed)
    lines = [f"coverage: {covered} of {len(counted)} items reached ({coverage.percent:g}%) "
             f"by {coverage.cases} cases"]
    stage = None
    for item in coverage.items:
        if item.stage != stage:
            stage = item.stage
            lines.append(stage)
        note = "" if item.counted else "  (engine fallback, not counted)"
        lines.append(f"  {item.hits:5d}  {item.kind:<8} {item.id}{note}")
    if coverage.missed:
        lines.append(f"not reached by any case ({len(coverage.missed)}):")
        lines += [f"{i.location}: {i.stage}: {i.kind} {i.id}" for i in coverage.missed]
    return lines

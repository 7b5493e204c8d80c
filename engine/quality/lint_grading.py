"""Static checks of the grading stage: scorecard characteristics whose bins leave values
without a bin, bins no value can fall in (outside the input's bounds, or taken first by
the bins before them: the first bin that matches wins), and grades no score can reach.

``credit validate`` already refuses overlapping bins and bands with gaps, overlaps or in
the wrong order (``engine.ruleset.grading``); these checks go further. The scores a scorecard can
give are computed exactly (every combination of one bin per characteristic, plus 0 points
where a value can fall in no bin), so a band lying between two reachable scores is found
even when the bands cover the whole range.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..ruleset.compiler import CompiledRuleset
from ..ruleset.grading import Characteristic
from .findings import ERROR, WARNING, Finding
from .input_space import NON_NULL, describe, domain_of, matches, pieces

MAX_SCORES = 200_000  # beyond this many distinct scores, bands are checked on the range


def grading_findings(ruleset: CompiledRuleset) -> list[Finding]:
    """Every finding about the scorecard's bins and the grades its bands give."""
    doc = ruleset.source.stages["grading"]
    findings: list[Finding] = []
    options: list[set[float]] = []
    for char in ruleset.grading_info.characteristics:
        for bin_, why in _dead_bins(ruleset, char):
            findings.append(Finding(doc.locate(("scorecard", "characteristics", char.index,
                                                "bins", bin_.index)), ERROR,
                                    "bin-never-matches", f"characteristic {char.id}: bin "
                                    f"{bin_.id} can never be taken: {why}"))
        gap = _bin_gap(ruleset, char)
        choices = {b.points for b in char.bins}
        if gap:
            findings.append(Finding(doc.locate_key(("scorecard", "characteristics", char.index,
                                                "bins")), WARNING, "bins-gap",
                                    f"characteristic {char.id}: no bin takes {gap} (0 "
                                    "points; add a bin, or an else bin)"))
            choices.add(0)
        options.append(choices)
    findings += _unreachable_grades(ruleset, options)
    return findings


def _input_domain(ruleset: CompiledRuleset, char: Characteristic):
    spec = ruleset.source.stages["grading"].data["scorecard"]["characteristics"][char.index]
    read = spec["input"].strip()
    facts = ruleset.source.stages["facts"].data.get("facts") or {}
    return domain_of(read if read.replace(".", "_").isidentifier() else None,
                     char.input_type, facts, known={"grade": ruleset.grades},
                     non_null=NON_NULL)


def _dead_bins(ruleset: CompiledRuleset, char: Characteristic) -> Iterator[tuple]:
    """(bin, why) for each range or values bin no value can fall in."""
    tested = [b for b in char.bins if b.test is not None]  # in the order they are tried
    column = [p for p in pieces(_input_domain(ruleset, char), [b.test for b in tested])
              if not p.missing]
    for k, bin_ in enumerate(tested):
        live = [p for p in column if matches(bin_.test, p) is not False]
        if not live:
            yield bin_, "no value the input can take falls in it"
        elif all(any(matches(e.test, p) is True for e in tested[:k]) for p in live):
            yield bin_, "the bins before it take every value it would"


def _bin_gap(ruleset: CompiledRuleset, char: Characteristic) -> str | None:
    """Text for the input values no bin takes, or None when every value has a bin."""
    if any(b.kind == "else" for b in char.bins):
        return None
    domain = _input_domain(ruleset, char)
    tests = [b.test for b in char.bins if b.test is not None]
    column = pieces(domain, tests)
    left = [i for i, piece in enumerate(column) if not piece.missing and
            all(matches(test, piece) is False for test in tests)]
    parts = []
    if left:
        parts.append(describe(column, left))
    if domain.nullable and not any(b.kind == "missing" for b in char.bins):
        parts.append("a missing value")
    return " and ".join(parts) or None


def _unreachable_grades(ruleset: CompiledRuleset, options: list[set[float]]
                        ) -> Iterator[Finding]:
    """A band no score the scorecard can give falls in: an error when no cap or floor
    gives its grade either, else a warning."""
    doc = ruleset.source.stages["grading"]
    spec = doc.data
    scores: set | None = {ruleset.grading_info.base_points}  # exact, as the score is
    for choices in options:
        scores = {s + c for s in scores for c in choices}
        if len(scores) > MAX_SCORES:
            scores = None
            break
    low, high = ruleset.grading_info.score_range
    by_adjustment: dict[str, list[str]] = {}
    for item in spec.get("adjustments") or []:
        by_adjustment.setdefault(item.get("at_most", item.get("at_least")), []).append(
            item["id"])
    band_index = {band["grade"]: index for index, band in enumerate(spec["bands"])}
    for grade, interval in ruleset.grading_info.bands:
        if scores is None:
            reachable = (interval.low is None or interval.low <= high) and (
                interval.high is None or interval.high >= low)
        else:
            reachable = any(interval.contains(s) for s in scores)
        if reachable:
            continue
        where = doc.locate(("bands", band_index[grade], "score"))
        why = f"no score the scorecard can give falls in {interval}" + _nearest(scores,
                                                                                 interval)
        adjustments = by_adjustment.get(grade)
        if adjustments:
            yield Finding(where, WARNING, "band-unreachable", f"band {grade}: {why}; the "
                          f"grade is given only by {', '.join(adjustments)}")
        else:
            yield Finding(where, ERROR, "grade-unreachable", f"grade {grade} can never be "
                          f"given: {why}, and no cap or floor gives it")


def _nearest(scores: set[float] | None, interval) -> str:
    if not scores:
        return ""
    below = [s for s in scores if interval.low is not None and s <= interval.low]
    above = [s for s in scores if interval.high is not None and s >= interval.high]
    parts = ([f"{max(below):g} below"] if below else []) + \
        ([f"{min(above):g} above"] if above else [])
    return f" (nearest scores: {', '.join(parts)})" if parts else ""

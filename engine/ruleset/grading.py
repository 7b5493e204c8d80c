"""Grading: a scorecard (characteristics, bins, points, reason codes), score bands to
grades, then floors and caps. Compiled into the body of the generated ``grading``
function, which returns ``(score, band_grade, grade, adjustments, reason_codes)``.

Points and the score are exact: whole points are ints, others Decimals of the number as
written, so 0.1 + 0.2 is 0.3 and a score on a band's edge is on it. Points with decimals
are added, compared with the bands and ranked for reason codes as whole numbers of their
smallest decimal place (0.1 and 0.25 as 10 and 25 hundredths), which is exact and as fast
as whole points; the score is made a decimal once, when the bands are done."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..language.codegen import FunctionBuilder, Path, Reporter
from ..language.expressions import EXACT, NUMBER, NUMERIC, CodeContext, Symbol
from ..language.runtime import written
from ..language.temporal import TEMPORAL
from ..language.unary_tests import Interval, UnaryTest, compile_unary_test
from ..language.value_lists import list_member, value_list_test

STAGE = "grading"


@dataclass(frozen=True)
class Bin:
    """A scorecard bin as compiled: its id (for the trace and coverage), points, its
    position in the YAML list of bins, and (range and values bins) its compiled test."""

    id: str
    points: int | Decimal  # exact, as written
    kind: str  # range | values | missing | else
    index: int = 0
    test: UnaryTest | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Characteristic:
    id: str
    bins: tuple[Bin, ...]
    input_type: str = NUMBER
    index: int = 0  # position in the YAML list of characteristics

    @property
    def best(self) -> int | Decimal:
        return max(b.points for b in self.bins)


@dataclass(frozen=True)
class CompiledGrading:
    """What static checks need to know about the compiled grading stage."""

    characteristics: tuple[Characteristic, ...]
    score_range: tuple[int | Decimal, int | Decimal]
    bands: tuple[tuple[str, Interval], ...]
    adjustments: tuple[str, ...]
    base_points: int | Decimal = 0


def compile_grading(spec: Mapping, grades: Sequence[str], scope: Mapping[str, Symbol],
                    fb: FunctionBuilder, rep: Reporter) -> CompiledGrading | None:
    """Write the grading stage into ``fb``; None when the spec has problems."""
    before = len(rep.problems)
    card = spec["scorecard"]
    ctx = fb.ctx
    base = written(card.get("base_points", 0))
    scale = _scale([base, *(written(b["points"]) for c in card["characteristics"]
                            for b in c["bins"])])
    # With whole points the sum is the score; else a whole number of 10**-scale.
    total = "total" if scale else "score"
    fb.line(f"{total} = {_scaled(base, scale)!r}")
    characteristics, lost_terms = [], []
    losses: list[tuple[int, tuple]] = []  # (line in fb.body, (points lost, position, reason))
    low = high = base
    seen: set[str] = set()
    for c_index, char in enumerate(card["characteristics"]):
        path = ("scorecard", "characteristics", c_index)
        if char["id"] in seen:
            rep.error((*path, "id"), f"characteristic id '{char['id']}' is used twice")
        seen.add(char["id"])
        compiled = _characteristic(char, path, scope, fb, rep, scale, total, losses)
        if compiled is None:
            continue
        characteristic, lost_local = compiled
        characteristics.append(characteristic)
        points = [b.points for b in characteristic.bins]
        has_else = any(b.kind == "else" for b in characteristic.bins)
        low += min(points) if has_else else min(0, *points)
        high += max(points)
        lost_terms.append(lost_local)
    # Every loss a bin can give is known now: each bin's line ends with the loss's rank in
    # the order reasons are given in, so that a decision sorts whole numbers.
    ranked = sorted({loss for _, loss in losses if loss[0] < 0})
    rank = {loss: index for index, loss in enumerate(ranked)}
    for line, loss in losses:
        fb.body[line] += str(rank.get(loss, len(ranked)))
    fb.line(f"reasons = _top_reasons(({', '.join(lost_terms)},), "
            f"{card.get('reason_count', 3)!r}, {ctx.constant(tuple(r for *_, r in ranked))})")
    bands = _bands(spec["bands"], grades, (low, high), fb, rep, scale)
    adjustments = _adjustments(spec.get("adjustments", []), grades, scope, fb, rep)
    if len(rep.problems) > before or bands is None or adjustments is None:
        return None
    fb.line(f"grade = {ctx.constant(tuple(grades))}[rank]")
    fb.line("return score, band_grade, grade, adjusted, reasons")
    return CompiledGrading(tuple(characteristics), (low, high), bands, adjustments, base)


def _characteristic(char: Mapping, path: Path, scope, fb: FunctionBuilder, rep: Reporter,
                    scale: int, total: str, losses: list):
    ctx = fb.ctx
    compiled = rep.expression((*path, "input"), char["input"], scope, ctx)
    if compiled is None:
        return None
    value = ctx.temp()
    points_local, result_local, lost_local = ctx.temp(), ctx.temp(), ctx.temp()
    default_reason = char["reason"]
    branches: list[tuple[str, Bin, str]] = []  # (condition, bin, reason)
    missing = other = None
    ranges: list[tuple[str, tuple[Interval, ...]]] = []  # to find overlapping ranges
    ok = True
    for b_index, spec in enumerate(char["bins"]):
        bin_path = (*path, "bins", b_index)
        reason = spec.get("reason", default_reason)
        points = written(spec["points"])
        if spec.get("missing"):
            if missing is not None:
                rep.error(bin_path, "two missing bins")
            missing = Bin(str(spec.get("id", "missing")), points, "missing", b_index), reason
            continue
        if spec.get("else"):
            if other is not None:
                rep.error(bin_path, "two else bins")
            other = Bin(str(spec.get("id", "else")), points, "else", b_index), reason
            continue
        if "range" in spec:
            if compiled.type not in (*NUMERIC, *TEMPORAL, "null"):
                rep.error((*bin_path, "range"), f"a range bin needs a number, a date, a "
                          f"time or a duration input; '{char['input']}' is {compiled.type}")
                ok = False
                continue
            kind = "range"
            test = rep.guard((*bin_path, kind), lambda c=spec["range"]: compile_unary_test(
                c, value, compiled.type, scope, ctx, input_nullable=False))
        else:
            kind = "values"
            test = _values_test(spec["values"], (*bin_path, kind), value, compiled.type, ctx,
                                rep)
        if test is None:
            ok = False
            continue
        bin_id = str(spec.get("id", spec["range"] if kind == "range" else
                              ", ".join(str(v).lower() if isinstance(v, bool) else str(v)
                                        for v in spec["values"])))
        branches.append((test.code or "True", Bin(bin_id, points, kind, b_index, test), reason))
        for other_id, intervals in ranges:
            if test.intervals and any(_overlap(a, b) for a in intervals
                                      for b in test.intervals):
                rep.error((*bin_path, "range"), f"range {spec['range']} overlaps bin {other_id}")
        if test.intervals:
            ranges.append((bin_id, test.intervals))
    if not ok:
        return None
    bins = [b for _, b, _ in branches]
    bins += [x[0] for x in (missing, other) if x is not None]
    fb.line(f"{value} = {compiled.code}")

    best = max(b.points for b in bins) if bins else 0
    position = int(path[-1])

    def assign(bin_: Bin | None, reason: str) -> None:
        # The trace result and the reason-code entry of each bin are constants, so a
        # decision allocates nothing for them. The line is ended with the loss's rank once
        # every characteristic is compiled (compile_grading).
        points = bin_.points if bin_ else 0
        result = ctx.constant({"bin": bin_.id if bin_ else None, "points": points})
        fb.line(f"{points_local} = {_scaled(points, scale)!r}; {result_local} = {result}; "
                f"{lost_local} = ")
        losses.append((len(fb.body) - 1, (_scaled(points - best, scale), position, reason)))

    none_case = missing or other
    fb.line(f"if {value} is None:")
    with fb.indented():
        assign(none_case[0] if none_case else None, none_case[1] if none_case else
               default_reason)
    for condition, bin_, reason in branches:
        fb.line(f"elif {condition}:")
        with fb.indented():
            assign(bin_, reason)
    fb.line("else:")
    with fb.indented():
        assign(other[0] if other else None, other[1] if other else default_reason)
    fb.line(f"{total} += {points_local}")
    fb.trace(STAGE, char["id"], compiled.reads, result_local)
    return Characteristic(char["id"], tuple(bins), compiled.type, int(path[-1])), lost_local


def _scale(points: list) -> int:
    """The smallest decimal place of any points (0 when all are whole)."""
    return max([0, *(-p.as_tuple().exponent for p in points if isinstance(p, Decimal))])


def _scaled(value: int | Decimal, scale: int) -> int | Decimal:
    """``value`` in units of 10**-scale: a whole number for points (a band's end may have
    more decimals: then an exact Decimal)."""
    if isinstance(value, int):
        return value * 10 ** scale
    shifted = value.scaleb(scale)  # (a whole Decimal such as 1E+16 becomes an int too)
    return int(shifted) if shifted == shifted.to_integral_value() else shifted


def _overlap(a: Interval, b: Interval) -> bool:
    """True when two intervals share at least one point."""
    def below(x: Interval, y: Interval) -> bool:  # x lies entirely below y
        if x.high is None or y.low is None:
            return False
        return x.high < y.low or (x.high == y.low and not (x.high_closed and y.low_closed))
    return not (below(a, b) or below(b, a))


def _values_test(values: list, path: Path, input_code: str, input_type: str,
                 ctx: CodeContext, rep: Reporter) -> UnaryTest | None:
    """The test of a values bin, each value taken as YAML gives it (None, reported at the
    value, when the input can never be one of them)."""
    members = [rep.guard((*path, index), lambda v=v: list_member(v, input_type))
               for index, v in enumerate(values)]
    if any(m is None for m in members):
        return None
    return value_list_test(members, input_code, input_type, ctx)


def _bands(bands: list, grades: Sequence[str], score_range: tuple,
           fb: FunctionBuilder, rep: Reporter, scale: int = 0):
    """Score -> grade: constant intervals with no gaps and no overlaps over the scores the
    scorecard can produce, every grade used once, better grades on higher scores."""
    ctx = fb.ctx
    parsed: list[tuple[str, Interval, int, str]] = []
    used: dict[str, int] = {}
    for index, band in enumerate(bands):
        path = ("bands", index)
        grade = band["grade"]
        if grade not in grades:
            rep.error((*path, "grade"), f"'{grade}' is not a grade of this ruleset "
                      f"({', '.join(grades)})")
            continue
        if grade in used:
            rep.error((*path, "grade"), f"grade {grade} has two bands (see band {used[grade] + 1})")
            continue
        used[grade] = index
        test = rep.guard((*path, "score"), lambda t=band["score"]: compile_unary_test(
            t, "score", EXACT, {}, ctx, input_nullable=False))
        if test is None:
            continue
        if not test.intervals or len(test.intervals) != 1 or test.negated:
            rep.error((*path, "score"), "a band's score must be one interval with constant "
                      "ends, like [600..700)")
            continue
        parsed.append((grade, test.intervals[0], index, test.code))
    for grade in grades:
        if grade not in used:
            rep.error(("bands",), f"no band produces grade {grade}")
    if len(parsed) != len(bands):
        return None
    ordered = sorted(parsed, key=lambda p: (float("-inf") if p[1].low is None else p[1].low,
                                            not p[1].low_closed))
    ok = True
    for (g1, i1, _, _), (g2, i2, idx2, _) in itertools.pairwise(ordered):
        if _overlap(i1, i2):
            rep.error(("bands", idx2, "score"), f"bands {g1} {i1} and {g2} {i2} overlap")
            ok = False
        elif i1.high is None or i2.low is None or i1.high != i2.low or \
                (i1.high_closed == i2.low_closed):
            rep.error(("bands", idx2, "score"), f"gap between bands {g1} {i1} and {g2} {i2}")
            ok = False
        elif grades.index(g2) > grades.index(g1):
            rep.error(("bands", idx2, "grade"), f"band {g2} {i2} lies above band {g1} {i1} "
                      "but is a worse grade")
            ok = False
    low, high = score_range
    lowest, highest = ordered[0][1], ordered[-1][1]
    # Contiguous bands cover one range; it must hold every score the scorecard can give.
    if ok and lowest.low is not None and not lowest.contains(low) and low <= lowest.low:
        rep.error(("bands", ordered[0][2], "score"),
                  f"gap: scores from {low} up to {lowest} get no grade (the scorecard can "
                  f"give {low})" if low < lowest.low else f"gap: the score {low} gets no "
                  f"grade, {lowest} leaves it out (the scorecard can give {low})")
        ok = False
    if ok and highest.high is not None and not highest.contains(high) and \
            high >= highest.high:
        rep.error(("bands", ordered[-1][2], "score"),
                  f"gap: scores above {highest} get no grade (the scorecard can give {high})"
                  if high > highest.high else f"gap: the score {high} gets no grade, "
                  f"{highest} leaves it out (the scorecard can give {high})")
        ok = False
    if not ok:
        return None
    keyword = "if"
    for grade, interval, _, code in reversed(ordered):
        if scale:
            code = _scaled_band(interval, scale, ctx)
        fb.line(f"{keyword} {code}: band_grade = {grade!r}; rank = {grades.index(grade)}")
        keyword = "elif"
    if scale:
        fb.line(f"else: _no_band(_unscaled(total, {scale}))")
        fb.line(f"score = _unscaled(total, {scale})")
    else:
        fb.line("else: _no_band(score)")
    return tuple((g, i) for g, i, _, _ in ordered)


def _scaled_band(interval: Interval, scale: int, ctx: CodeContext) -> str:
    """The band's test on the scaled total."""
    test = "total"
    if interval.low is not None:
        test = f"{_end(interval.low, scale, ctx)} {'<=' if interval.low_closed else '<'} {test}"
    if interval.high is not None:
        test = f"{test} {'<=' if interval.high_closed else '<'} {_end(interval.high, scale, ctx)}"
    return "True" if test == "total" else f"({test})"


def _end(value: int | Decimal, scale: int, ctx: CodeContext) -> str:
    scaled = _scaled(value, scale)
    return repr(scaled) if isinstance(scaled, int) else ctx.constant(scaled)


def _adjustments(items: list, grades: Sequence[str], scope, fb: FunctionBuilder,
                 rep: Reporter):
    """Floors (at_least) first, then caps (at_most), so that a cap always wins."""
    ctx = fb.ctx
    fb.line("adjusted = []")
    ids = []
    ordered = sorted(enumerate(items), key=lambda p: "at_most" in p[1])
    ok = True
    for index, item in ordered:
        path = ("adjustments", index)
        kind = "cap" if "at_most" in item else "floor"
        limit = item.get("at_most", item.get("at_least"))
        if limit not in grades:
            rep.error((*path, "at_most" if kind == "cap" else "at_least"),
                      f"'{limit}' is not a grade of this ruleset")
            ok = False
            continue
        compiled = rep.expression((*path, "when"), item["when"], scope, ctx, expect="boolean")
        if compiled is None:
            ok = False
            continue
        ids.append(item["id"])
        rank = grades.index(limit)
        changes = f"rank < {rank}" if kind == "cap" else f"rank > {rank}"
        fb.line(f"if {compiled.code}:")
        with fb.indented():
            applied = ctx.temp()
            fb.line(f"{applied} = {changes}")
            fb.line(f"adjusted.append({{'id': {item['id']!r}, 'kind': {kind!r}, "
                    f"'grade': {limit!r}, 'reason': {item['reason']!r}, "
                    f"'applied': {applied}}})")
            fb.line(f"if {applied}: rank = {rank}")
            fb.trace(STAGE, item["id"], compiled.reads, f"{{'{kind}': {limit!r}, "
                     f"'applied': {applied}}}")
    return tuple(ids) if ok else None

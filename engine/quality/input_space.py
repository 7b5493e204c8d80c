"""The values a rule input can take, cut into pieces that every constant cell either
wholly matches or wholly misses: what static checks of tables and scorecard bins reason
over instead of the cells' text.

A number input is cut at every constant its cells mention (``[60..80)`` and ``>= 80`` cut
at 60 and 80: below 60, 60, between, 80, above 80), within the values it can take (a
customer field's bounds in ``schemas/customer.schema.json``; whole numbers for an integer
input). A date, time or duration input is cut the same way at the dates, times and
durations its cells mention (a day, a microsecond or a month the smallest step). A text
or true/false input is cut into the values its cells name, plus "any other value" unless
the input's values are known (grades, admission outcomes, a field the customer schema
gives an ``enum``, true/false). A fact declared with ``values`` in facts.yaml names its
pieces, but the list is for information (nothing refuses another value), so "any other
value" stays. A missing value is a piece of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from ..language import temporal
from ..language.expressions import BOOLEAN, INTEGER, NUMERIC
from ..language.schema_check import load_schema
from ..language.unary_tests import Interval, UnaryTest

OTHER = "any other value"
# What a stage after grading always has: never missing.
NON_NULL = ("grade", "band_grade", "admission_outcome", "as_of", "score",
            "overrides_applied")

EVERYTHING = Interval(None, False, None, False)


@dataclass(frozen=True)
class Domain:
    """What an input can be: its type, a numeric range, a finite list of values (None:
    open) and whether it may be missing."""

    type: str
    range: Interval = EVERYTHING
    values: tuple | None = None
    nullable: bool = True
    named: tuple = ()  # values an open domain names first (facts.yaml's ``values``)
    allowed: tuple[Interval, ...] | None = None  # a number input's values list (a table's)

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC

    @property
    def ordered(self) -> bool:
        """Numbers, dates, times and durations: cut at the constants cells compare with."""
        return self.numeric or self.type in temporal.TEMPORAL


@dataclass(frozen=True)
class Piece:
    """A part of a domain no constant cell splits, with a representative value."""

    label: str
    value: object = None
    interval: Interval | None = None  # numeric pieces
    missing: bool = False
    other: bool = False  # "any other value" of an open text domain


MISSING = Piece("missing", missing=True)


def domain_of(name: str | None, typ: str, facts: Mapping, *,
              known: Mapping[str, tuple] | None = None, non_null: Iterable[str] = ()
              ) -> Domain:
    """The domain of an input that reads ``name`` (None: an expression) of type ``typ``.
    ``facts`` are the declared facts (facts.yaml); ``known`` names with a finite list of
    values; ``non_null`` names never missing."""
    nullable = name not in set(non_null)
    if typ == BOOLEAN:
        return Domain(typ, values=(True, False), nullable=nullable)
    known = known or {}
    if name in known:
        return Domain(typ, values=tuple(known[name]), nullable=nullable)
    declared = facts.get(name) or {}
    node = _customer_field(tuple(name.split("."))) if name else None
    if not isinstance(node, Mapping):
        node = {}
    if "enum" in node:  # the customer schema refuses anything else
        return Domain(typ, values=tuple(node["enum"]), nullable=nullable)
    if declared.get("values"):  # for information: another value can still come
        return Domain(typ, values=None, nullable=nullable, named=tuple(declared["values"]))
    low, high = node.get("minimum"), node.get("maximum")
    return Domain(typ, Interval(low, low is not None, high, high is not None),
                  nullable=nullable)


@cache
def _customer_field(parts: tuple[str, ...]) -> Mapping | None:
    """The customer schema's description of a dotted field, if it has one."""
    node: Mapping = load_schema("customer.schema.json")
    for part in parts:
        node = (node.get("properties") or {}).get(part)
        if not isinstance(node, Mapping):
            return None
    return node


def pieces(domain: Domain, tests: Iterable[UnaryTest | None]) -> list[Piece]:
    """The pieces of ``domain`` cut by the constants of ``tests`` (missing last)."""
    tests = [t for t in tests if t is not None and not t.is_any]
    result = _number_pieces(domain, tests) if domain.ordered else _value_pieces(domain, tests)
    if domain.nullable:
        result.append(MISSING)
    return result


def _number_pieces(domain: Domain, tests: list[UnaryTest]) -> list[Piece]:
    kind = None if domain.numeric else domain.type  # a date, time or duration input
    cuts: set = set()
    for test in tests:
        for interval in test.intervals or ():
            cuts.update(v for v in (interval.low, interval.high) if v is not None)
        cuts.update(v for v in test.values or () if (
            _is_number(v) if kind is None else temporal.type_of(v) == kind))
    bounds = domain.range
    cuts.update(v for v in (bounds.low, bounds.high) if v is not None)
    for interval in domain.allowed or ():
        cuts.update(v for v in (interval.low, interval.high) if v is not None)
    ordered = sorted(cuts)
    integer = domain.type == INTEGER
    candidates: list[tuple[Interval, float | None]] = []
    previous = None

    def between(low, high):
        return _between(low, high, integer) if kind is None else \
            temporal.between(kind, low, high)

    for cut in ordered:
        candidates.append((Interval(previous, False, cut, False), between(previous, cut)))
        candidates.append((Interval(cut, True, cut, True),
                           cut if kind or not integer or float(cut).is_integer() else None))
        previous = cut
    candidates.append((Interval(previous, False, None, False), between(previous, None)))
    result = []
    for interval, value in candidates:
        if value is None or not bounds.contains(value) or (
                domain.allowed is not None and not any(i.contains(value)
                                                       for i in domain.allowed)):
            continue
        if integer:
            value = int(value)
        label = _number(interval.low) if interval.low == interval.high else str(interval)
        result.append(Piece(label, value, interval))
    return result


def _between(low: float | None, high: float | None, integer: bool) -> float | None:
    """A value strictly between two cuts (None: unbounded), or None when there is none."""
    if integer:
        first = -math.inf if low is None else math.floor(low) + 1
        last = math.inf if high is None else math.ceil(high) - 1
        if first > last:
            return None
        if low is None and high is None:
            return 0
        return first if low is not None else last
    if low is None and high is None:
        return 0.0
    if low is None:
        return high - 1
    if high is None:
        return low + 1
    if isinstance(low, Decimal) != isinstance(high, Decimal):  # an exact cut and a bound
        low, high = float(low), float(high)
    return (low + high) / 2


def _value_pieces(domain: Domain, tests: list[UnaryTest]) -> list[Piece]:
    named: list = list(domain.values or domain.named)
    for test in tests:
        for value in sorted(test.values or (), key=repr):
            if value not in named and domain.values is None:
                named.append(value)
    result = [Piece(_show(v), v) for v in named]
    if domain.values is None:
        result.append(Piece(OTHER, other=True))
    return result


def matches(test: UnaryTest | None, piece: Piece) -> bool | None:
    """Whether a cell matches the piece; None when the cell is not made of constants."""
    if test is None or test.is_any:
        return True
    if piece.missing:
        return False  # every test but "-" is false for a missing value
    if test.intervals is None and test.values is None:
        return None
    if piece.other:
        found = False
    else:
        found = piece.value in (test.values or ()) or (
            piece.interval is not None and any(i.contains(piece.value)
                                               for i in test.intervals or ()))
    return not found if test.negated else found


def describe(column_pieces: Sequence[Piece], chosen: Iterable[int]) -> str:
    """Readable text for a set of a column's pieces: neighbouring number pieces joined
    into one range, values listed."""
    indexes = sorted(set(chosen))
    parts: list[str] = []
    run: list[Piece] = []

    def close() -> None:
        if run:
            first, last = run[0].interval, run[-1].interval
            joined = Interval(first.low, first.low_closed, last.high, last.high_closed)
            parts.append(run[0].label if len(run) == 1 else str(joined))
            run.clear()

    previous = None
    for index in indexes:
        piece = column_pieces[index]
        if piece.interval is not None and previous is not None and index == previous + 1 \
                and column_pieces[previous].interval is not None:
            run.append(piece)
        else:
            close()
            if piece.interval is not None:
                run.append(piece)
            else:
                parts.append(piece.label)
        previous = index
    close()
    return ", ".join(parts)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _number(value: object) -> str:
    if temporal.type_of(value) is not None:
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else repr(value)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
